"""Does the web tier stay responsive while faces are being recognised?

In one run, three systems take the same uploads from 1, 4 and 16 concurrent clients:

  (a) inline/single:   a Flask app that runs detection and embedding inside the request,
                       on a non-threaded server (one request at a time);
  (b) inline/threaded: the same app on waitress with 16 threads;
  (c) facerec:         `facerec serve` (upload answered 202 at once, work queued).

While the uploads run, a prober requests GET /healthz every 50 ms. The table gives p50/p99
latency of the uploads and of the probes, and facerec's ratio to each baseline. Each client
sends ten uploads by default, so that the 16-client p99 comes from 160 uploads; with fewer
than 100 samples a "p99" is simply the slowest one.

    .venv/bin/python benchmarks/responsiveness.py [--uploads-per-client 10]
"""

from __future__ import annotations

import argparse
import logging
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import ServeProcess, free_port  # noqa: E402

PHOTOS = ["obama.jpg", "obama2.jpg", "biden.jpg", "multiface.jpg", "32bit.png"]
LEVELS = (1, 4, 16)


def inline_app():
    """The blocking design: models inside the request handler."""
    import torch
    from flask import Flask, jsonify, request

    from facerec.compute.models import photo
    from facerec.compute.models.detector import Detector
    from facerec.compute.models.embedder import Embedder

    torch.set_num_threads(2)
    detector, embedder = Detector("cpu"), Embedder(None)
    lock = threading.Lock()  # one model call at a time, as one worker would
    app = Flask("inline")

    @app.post("/upload")
    def upload():
        with tempfile.NamedTemporaryFile() as f:
            request.files["image"].save(f.name)
            img = photo.load_rgb(Path(f.name))
        with lock:
            found = [d for d in detector.detect(img) if d.score >= 0.9]
            vectors = embedder.embed(detector.crops(img, found))
        return jsonify({"faces": len(found), "dims": int(vectors.shape[1])}), 200

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app


def serve_inline(mode: str, port: int) -> None:
    app = inline_app()
    # Neither a line per request nor waitress's queue-depth warnings: only the table prints.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if mode == "single":
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", port, app, threaded=False)
        print("ready", flush=True)
        server.serve_forever()
    else:
        from waitress import serve

        print("ready", flush=True)
        serve(app, host="127.0.0.1", port=port, threads=16, _quiet=True)


def start_inline(mode: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-inline", mode, "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(url + "/healthz", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"inline {mode} server did not start")


def pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def multipart(data: bytes) -> tuple[bytes, str]:
    """A ready-made multipart body, so that the load generator spends little CPU per request."""
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"'
        f"\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def upload_request(host: str, path: str, data: bytes) -> bytes:
    """A whole ready-made HTTP request that uploads `data`."""
    body, ctype = multipart(data)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get_request(host: str, path: str) -> bytes:
    """A whole ready-made HTTP GET request."""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


class Connection:
    """A keep-alive HTTP/1.1 client that sends ready-made requests and reads responses with a
    Content-Length: a fraction of http.client's CPU, which here shares the server's cores."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.pending = b""

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Sends one request; returns the response's status and body."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=600)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.pending = b""
        self.sock.sendall(request)
        while (end := self.pending.find(b"\r\n\r\n")) == -1:
            self._receive()
        head = self.pending[:end].lower()
        length = re.search(rb"\r\ncontent-length: *(\d+)", head)
        if length is None:
            raise RuntimeError(f"response without a Content-Length: {head[:200]!r}")
        body_end = end + 4 + int(length.group(1))
        while len(self.pending) < body_end:
            self._receive()
        body, self.pending = self.pending[end + 4 : body_end], self.pending[body_end:]
        if b"\r\nconnection: close" in head or head.startswith(b"http/1.0"):
            self.close()
        return int(head.split(b" ", 2)[1]), body

    def _receive(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("the server closed the connection mid-response")
        self.pending += data

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def run_level(url: str, path: str, photos: list[bytes], clients: int, per_client: int):
    """Each client uploads the photos in turn; returns upload and probe latencies."""
    host = url.removeprefix("http://").split(":")[0]
    return run_requests(url, [upload_request(host, path, p) for p in photos], clients, per_client)


def run_requests(url: str, requests_: list[bytes], clients: int, per_client: int):
    """Each of `clients` keep-alive clients sends `per_client` of `requests_` in turn while a
    prober requests /healthz; returns the requests' and the probes' latencies."""
    host, port = url.removeprefix("http://").split(":")
    probe_request = get_request(host, "/healthz")
    uploads: list[float] = []
    probes: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    start = threading.Barrier(clients)

    def client(n: int) -> None:
        conn = Connection(host, int(port))
        start.wait()
        for i in range(per_client):
            t0 = time.perf_counter()
            status, text = conn.exchange(requests_[(n + i) % len(requests_)])
            dt = time.perf_counter() - t0
            with lock:
                uploads.append(dt)
                if status not in (200, 202):
                    failures.append(f"{status} {text[:100]!r}")
        conn.close()

    def prober() -> None:
        conn = Connection(host, int(port))
        while not done.is_set():
            t0 = time.perf_counter()
            conn.exchange(probe_request)
            probes.append(time.perf_counter() - t0)
            time.sleep(0.05)
        conn.close()

    probe = threading.Thread(target=prober)
    probe.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    probe.join()
    if failures:
        raise RuntimeError(f"{len(failures)} uploads failed, e.g. {failures[0]}")
    return uploads, probes


def wait_idle(url: str) -> None:
    """Lets facerec's queue drain so each level starts from an idle compute side."""
    while True:
        jobs = requests.get(
            url + "/api/v1/jobs?state=queued,running&page_size=1", timeout=30
        ).json()["jobs"]
        if not jobs:
            return
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--uploads-per-client", type=int, default=10)
    parser.add_argument(
        "--http-processes", type=int, default=0, help="front-end processes (0: the default)"
    )
    parser.add_argument("--serve-inline", choices=["single", "threaded"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_inline:
        serve_inline(args.serve_inline, args.port)
        return 0

    photos = [(args.faces / name).read_bytes() for name in PHOTOS]
    results: dict[tuple[str, int], tuple[list[float], list[float]]] = {}
    for mode in ("single", "threaded"):
        proc, url = start_inline(mode)
        try:
            for clients in LEVELS:
                results[(f"inline/{mode}", clients)] = run_level(
                    url, "/upload", photos, clients, args.uploads_per_client
                )
        finally:
            proc.kill()
    with tempfile.TemporaryDirectory() as tmp:
        served = ServeProcess(
            Path(tmp),
            "--max-queued-jobs",
            "10000",
            "--http-processes",
            str(args.http_processes),
        )
        served.start()
        try:
            for clients in LEVELS:
                wait_idle(served.url)
                results[("facerec", clients)] = run_level(
                    served.url, "/api/v1/jobs", photos, clients, args.uploads_per_client
                )
        finally:
            served.kill()

    print(f"{args.uploads_per_client} uploads per client; latency in ms (p50 / p99)")
    print(
        f"{'system':16} {'clients':>7} {'uploads':>7} {'upload p50':>11} {'upload p99':>11}"
        f" {'healthz p50':>12} {'healthz p99':>12}"
    )
    for (system, clients), (up, pr) in results.items():
        print(
            f"{system:16} {clients:7d} {len(up):7d} {pct(up, 50):11.1f} {pct(up, 99):11.1f}"
            f" {pct(pr, 50):12.1f} {pct(pr, 99):12.1f}"
        )
    print()
    print("facerec's upload p99 against each baseline (baseline / facerec, higher is better)")
    for clients in LEVELS:
        ours = pct(results[("facerec", clients)][0], 99)
        ratios = [
            pct(results[(f"inline/{m}", clients)][0], 99) / ours for m in ("single", "threaded")
        ]
        probe = pct(results[("facerec", clients)][1], 99)
        print(
            f"  {clients:2d} clients: {ratios[0]:7.1f}x vs inline/single, {ratios[1]:7.1f}x"
            f" vs inline/threaded; facerec healthz p99 {probe:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
