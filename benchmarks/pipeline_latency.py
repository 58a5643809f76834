"""Per-photo latency: the models called directly vs. the same photo through facerec.

For each photo in ../shared/faces/ this prints detection, embedding and total time when
facenet-pytorch is called in-process (the baseline), then the total seen by a gRPC client of
a running `facerec compute` (submit, queue, detect, embed, match, watch), and the ratio.

    .venv/bin/python benchmarks/pipeline_latency.py [--repeat 3] [--faces ../shared/faces]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facerec.compute.cli import client  # noqa: E402
from facerec.compute.models import photo  # noqa: E402
from facerec.compute.models.detector import Detector  # noqa: E402
from facerec.compute.models.embedder import Embedder  # noqa: E402
from facerec.v1 import job_pb2  # noqa: E402
from tests.conftest import ComputeProcess  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (both sides)")
    args = parser.parse_args()
    photos = sorted(p for p in args.faces.iterdir() if p.suffix in (".jpg", ".png"))

    torch.set_num_threads(args.threads)
    detector, embedder = Detector("cpu"), Embedder(None)
    direct: dict[str, tuple[float, float, float, int]] = {}
    for path in photos:
        det, emb, tot = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            img = photo.load_rgb(path)
            found = [d for d in detector.detect(img) if d.score >= 0.9]
            t1 = time.perf_counter()
            embedder.embed(detector.crops(img, found))
            t2 = time.perf_counter()
            det.append(t1 - t0)
            emb.append(t2 - t1)
            tot.append(t2 - t0)
        direct[path.name] = (median_ms(det), median_ms(emb), median_ms(tot), len(found))

    with tempfile.TemporaryDirectory() as tmp:
        server = ComputeProcess(Path(tmp) / "data", "--torch-threads", str(args.threads))
        server.start()
        try:
            service: dict[str, float] = {}
            with client.connect(server.target, server.key) as api:
                api.wait(api.submit(photos[0], job_pb2.JobSpec()).id)  # warm-up
                for path in photos:
                    samples = []
                    for _ in range(args.repeat):
                        t0 = time.perf_counter()
                        api.wait(api.submit(path, job_pb2.JobSpec()).id)
                        samples.append(time.perf_counter() - t0)
                    service[path.name] = median_ms(samples)
        finally:
            server.kill()

    print(f"torch threads: {args.threads}, repeats: {args.repeat} (medians, ms)")
    header = f"{'photo':24} {'faces':>5} {'detect':>8} {'embed':>8} {'direct':>8}"
    print(header + f" {'facerec':>8} {'ratio':>6}")
    for name, (det, emb, tot, n) in direct.items():
        ratio = service[name] / tot
        print(
            f"{name:24} {n:5d} {det:8.0f} {emb:8.0f} {tot:8.0f} {service[name]:8.0f} {ratio:6.2f}"
        )
    all_direct = sum(v[2] for v in direct.values())
    all_service = sum(service.values())
    print(
        f"{'all photos':24} {'':5} {'':8} {'':8} {all_direct:8.0f} {all_service:8.0f}"
        f" {all_service / all_direct:6.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
