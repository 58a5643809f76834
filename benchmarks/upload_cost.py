"""Where an upload's time goes: CPU per upload in each process, direct gRPC vs. through HTTP.

Runs `facerec serve --no-local-worker` (no model work, so only the upload path is measured)
and sends the same photos (a) straight to the compute server with SubmitJob and (b) through
the front end with POST /api/v1/jobs, from `--clients` concurrent clients. Prints, for each
path, the upload
latency (p50/p99) and the CPU milliseconds each process spent per upload, and the ratio of the
HTTP path to the direct one. Then, to split fixed from per-byte costs, the same for a tiny
(8x8) photo on both paths and for a plain `GET /healthz` (what any request costs the front end).

    .venv/bin/python benchmarks/upload_cost.py [--clients 16] [--uploads-per-client 10]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from PIL import Image  # noqa: E402
from responsiveness import PHOTOS, get_request, pct, run_level, run_requests  # noqa: E402

from facerec.compute.cli import client  # noqa: E402
from facerec.v1 import job_pb2  # noqa: E402
from tests.conftest import ServeProcess  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def direct(target: str, paths: list[Path], clients: int, per_client: int) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)
    with client.connect(target) as api:

        def one(n: int) -> None:
            start.wait()
            for i in range(per_client):
                t0 = time.perf_counter()
                api.submit(paths[(n + i) % len(paths)], job_pb2.JobSpec())
                with lock:
                    times.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return times


def tiny_photo(directory: Path) -> Path:
    """An 8x8 JPEG: uploading it costs what every upload costs, whatever its size."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (128, 64, 32)).save(buf, "JPEG")
    path = directory / "tiny.jpg"
    path.write_bytes(buf.getvalue())
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--uploads-per-client", type=int, default=10)
    args = parser.parse_args()
    paths = [args.faces / name for name in PHOTOS]
    photos = [p.read_bytes() for p in paths]
    n = args.clients * args.uploads_per_client

    with tempfile.TemporaryDirectory() as tmp:
        served = ServeProcess(Path(tmp), "--no-local-worker", "--max-queued-jobs", "1000000")
        served.start()
        try:
            child = served.compute_pid()
            target = "127.0.0.1:" + re.search(r"listening on \S+:(\d+)", served.log()).group(1)
            direct(target, paths, 2, 3)  # warm-up
            tiny = tiny_photo(Path(tmp))
            healthz = get_request(served.url.removeprefix("http://"), "/healthz")
            per = args.uploads_per_client
            runs = {
                "direct gRPC": lambda: direct(target, paths, args.clients, per),
                "HTTP front end": lambda: run_level(
                    served.url, "/api/v1/jobs", photos, args.clients, per
                )[0],
                "direct, tiny": lambda: direct(target, [tiny], args.clients, per),
                "HTTP, tiny": lambda: run_level(
                    served.url, "/api/v1/jobs", [tiny.read_bytes()], args.clients, per
                )[0],
                "GET /healthz": lambda: run_requests(served.url, [healthz], args.clients, per)[0],
            }
            rows = []
            for label, run in runs.items():
                front0, compute0 = cpu_seconds(served.proc.pid), cpu_seconds(child)
                times = run()
                rows.append(
                    (
                        label,
                        pct(times, 50),
                        pct(times, 99),
                        (cpu_seconds(served.proc.pid) - front0) / n * 1000,
                        (cpu_seconds(child) - compute0) / n * 1000,
                    )
                )
        finally:
            served.kill()

    print(
        f"{args.clients} clients x {args.uploads_per_client} requests per row, no model work;"
        " CPU ms per request"
    )
    print(f"{'path':16} {'p50 ms':>8} {'p99 ms':>8} {'front CPU ms':>13} {'compute CPU ms':>15}")
    for label, p50, p99, front, comp in rows:
        print(f"{label:16} {p50:8.1f} {p99:8.1f} {front:13.2f} {comp:15.2f}")
    (_, d50, d99, _, dc), (_, h50, h99, hf, hc) = rows[:2]
    print(
        f"HTTP / direct: p50 {h50 / d50:.2f}x, p99 {h99 / d99:.2f}x,"
        f" CPU per upload {(hf + hc) / dc:.2f}x"
    )
    by_label = {label: (front, comp) for label, _, _, front, comp in rows}
    tiny_front, tiny_compute = by_label["HTTP, tiny"]
    print(
        f"an upload's fixed cost beyond a plain request: front end"
        f" {tiny_front - by_label['GET /healthz'][0]:.2f} ms, compute {tiny_compute:.2f} ms;"
        f" the photos' bytes add {hf - tiny_front:.2f} and {hc - tiny_compute:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
