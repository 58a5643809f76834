"""`/healthz` and upload latency with hundreds of slow clients open against the front end.

Runs `facerec serve --no-local-worker` (its default two front-end processes; no model work,
so only the HTTP path is measured) and times `GET /healthz` and `POST /api/v1/jobs` from one
client, first with nothing else connected (the baseline) and then while `--slow` other
connections stay open: a third idle after connecting, a third that sent part of their
headers and add a byte every second, a third trickling a multipart body at 100 bytes/s. Like an
attacker, the script reopens every connection the server closes, so the count stays at
`--slow` the whole time. Prints p50/p99 for both phases, the p99 difference (the target: at
most 100 ms) and the ratio to the baseline, and how many connections the server closed.

    .venv/bin/python benchmarks/slow_clients.py [--slow 500] [--requests 200]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from responsiveness import pct  # noqa: E402

from tests.conftest import ServeProcess  # noqa: E402

FACES = ROOT.parent / "shared" / "faces"
HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
BODY = (
    b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data;"
    b" boundary=x\r\nContent-Length: 10000000\r\n\r\n--x\r\n"
)


class SlowCrowd:
    """`n` connections kept open and slow until `stop()`; counts the server's closes."""

    def __init__(self, host: str, port: int, n: int) -> None:
        self.addr = (host, port)
        self.n = n
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._socks: list[tuple[int, socket.socket]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, kind: int) -> socket.socket:
        sock = socket.create_connection(self.addr, timeout=5)
        sock.setblocking(False)
        if kind == 1:
            sock.send(HEAD)
        elif kind == 2:
            sock.send(BODY)
        return sock

    def start(self) -> None:
        self._socks = [(i % 3, self._open(i % 3)) for i in range(self.n)]
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            for i, (kind, sock) in enumerate(self._socks):
                try:
                    if sock.recv(65536, socket.MSG_PEEK) == b"" or sock.recv(65536):
                        raise ConnectionError
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    self._socks[i] = (kind, self._open(kind))
                    continue
                try:
                    if kind == 1:
                        sock.send(b"X")
                    elif kind == 2:
                        sock.send(b"b" * 100)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for _, sock in self._socks:
            sock.close()


FAILED: list[str] = []


def _timed(samples: list[float], call, want: int) -> requests.Response | None:
    """Runs `call`, adding its time to `samples` (a failure counts as its whole wait)."""
    t0 = time.perf_counter()
    try:
        answer = call()
    except requests.RequestException as exc:
        samples.append(time.perf_counter() - t0)
        FAILED.append(type(exc).__name__)
        return None
    samples.append(time.perf_counter() - t0)
    if answer.status_code != want:
        FAILED.append(str(answer.status_code))
        return None
    return answer


def measure(url: str, key: str, n: int, photo: bytes) -> tuple[list[float], list[float]]:
    headers = {"Authorization": f"Bearer {key}"}
    health: list[float] = []
    uploads: list[float] = []
    for i in range(n):
        _timed(health, lambda: requests.get(f"{url}/healthz", timeout=10), 200)
        if i % 4 == 0:
            r = _timed(
                uploads,
                lambda: requests.post(
                    f"{url}/api/v1/jobs", files={"image": photo}, headers=headers, timeout=10
                ),
                202,
            )
            if r is not None:
                requests.post(f"{url}/api/v1/jobs/{r.json()['id']}/cancel", headers=headers)
    return health, uploads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow", type=int, default=500, help="slow connections held open")
    parser.add_argument("--requests", type=int, default=200, help="healthz requests per phase")
    parser.add_argument(
        "--waitress-defaults",
        action="store_true",
        help="run the front end as waitress would by default (100 connections per process, no"
        " deadlines but its 120 s inactivity timeout): the baseline the deadlines improve on",
    )
    args = parser.parse_args()
    extra = (
        [
            "--http-connection-limit",
            "100",
            "--http-header-timeout-seconds",
            "1e9",
            "--http-min-body-rate",
            "0",
            "--http-idle-timeout-seconds",
            "120",
        ]
        if args.waitress_defaults
        else []
    )
    photo = (FACES / "obama.jpg").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        served = ServeProcess(
            Path(tmp),
            "--no-local-worker",
            "--http-processes",
            "2",
            "--max-queued-jobs",
            "100000",
            *extra,
        ).start()
        try:
            url = served.url
            host, port = url.split("//")[1].rsplit(":", 1)
            measure(url, served.key, 20, photo)  # warm up
            base_h, base_u = measure(url, served.key, args.requests, photo)
            crowd = SlowCrowd(host, int(port), args.slow)
            crowd.start()
            time.sleep(2)
            slow_h, slow_u = measure(url, served.key, args.requests, photo)
            time.sleep(12)  # past the header deadline: trickling headers get closed
            late_h, late_u = measure(url, served.key, args.requests // 2, photo)
            crowd.stop()
        finally:
            served.terminate()
    print(
        f"{args.slow} slow connections held open (reopened when closed)"
        + (", waitress's defaults" if args.waitress_defaults else "")
    )
    print(f"{'phase':<28} {'healthz p50':>11} {'p99':>8} {'upload p50':>11} {'p99':>8}  (ms)")
    rows = [
        ("alone (baseline)", base_h, base_u),
        ("slow crowd, first 2-10 s", slow_h, slow_u),
        ("slow crowd, after 14 s", late_h, late_u),
    ]
    for name, h, u in rows:
        print(
            f"{name:<28} {pct(h, 50):>11.1f} {pct(h, 99):>8.1f}"
            f" {pct(u, 50):>11.1f} {pct(u, 99):>8.1f}"
        )
    worst_h = max(pct(slow_h, 99), pct(late_h, 99))
    worst_u = max(pct(slow_u, 99), pct(late_u, 99))
    print(
        f"p99 added by the crowd: healthz {worst_h - pct(base_h, 99):+.1f} ms"
        f" (ratio {worst_h / pct(base_h, 99):.2f}), upload {worst_u - pct(base_u, 99):+.1f} ms"
        f" (ratio {worst_u / pct(base_u, 99):.2f}); target: at most +100 ms"
    )
    print(f"connections the server closed on deadlines: {crowd.closed_by_server}")
    print(f"requests that failed or timed out (10 s): {len(FAILED)} {sorted(set(FAILED))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
