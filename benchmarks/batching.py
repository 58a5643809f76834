"""Throughput with EMBED batching across jobs vs. one crop per EMBED task.

In one run: a compute server (its own worker, or --remote: a coordinator without models plus
`facerec worker` processes) gets `--jobs` photos from ../shared/faces at once, first with
max_batch_size 1 (the baseline: no batching), then with `--batch`. Prints jobs per second,
job latency, the EMBED batch-size histogram, and the throughput ratio.

    .venv/bin/python benchmarks/batching.py [--jobs 40] [--batch 16] [--workers 2]
        [--device cpu|cuda] [--remote N] [--faces ../shared/faces]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facerec.compute.cli import client  # noqa: E402
from facerec.v1 import job_pb2  # noqa: E402
from facerec.v1 import worker_service_pb2 as wpb  # noqa: E402
from tests.conftest import ComputeProcess, WorkerProcess  # noqa: E402


def run(args: argparse.Namespace, batch: int, workdir: Path) -> dict:
    photos = sorted(p for p in args.faces.glob("*.jpg"))
    common = ["--device", args.device, "--max-batch-size", str(batch)]
    common += ["--max-queue-delay-ms", str(args.delay_ms), "--torch-threads", str(args.threads)]
    workers: list[WorkerProcess] = []
    if args.remote:
        compute = ComputeProcess(workdir / "data", *common, "--no-local-worker").start()
        for n in range(args.remote):
            extra = ["--device", args.device, "--max-tasks", str(args.workers)]
            extra += ["--torch-threads", str(args.threads)]
            w = WorkerProcess.python(workdir, compute, f"w{n}", *extra)
            workers.append(w.start())
    else:
        compute = ComputeProcess(workdir / "data", *common, "--workers", str(args.workers))
        compute.start()
    try:
        with client.connect(compute.target, compute.key) as api:
            # One warm-up job so that lazy initialisation is not measured.
            api.wait(api.submit(photos[0], job_pb2.JobSpec()).id)
            before = api.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=10)
            t0 = time.perf_counter()
            ids = [
                api.submit(photos[n % len(photos)], job_pb2.JobSpec()).id for n in range(args.jobs)
            ]
            with ThreadPoolExecutor(16) as pool:
                jobs = list(pool.map(api.wait, ids))
            wall = time.perf_counter() - t0
            listing = api.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=10)
    finally:
        for w in workers:
            w.kill()
        compute.kill()
    failed = [j for j in jobs if j.state != job_pb2.JOB_STATE_SUCCEEDED]
    if failed:
        raise SystemExit(f"{len(failed)} jobs failed: {failed[0].error}")
    latency = sorted(j.update_time.ToNanoseconds() - j.create_time.ToNanoseconds() for j in jobs)
    hist = {b.batch_size: b.count for b in listing.embed_batch_sizes}
    for b in before.embed_batch_sizes:  # leave the warm-up job out
        hist[b.batch_size] -= b.count
    hist = {size: count for size, count in hist.items() if count}
    return {
        "batch": batch,
        "wall": wall,
        "jobs_per_s": len(jobs) / wall,
        "faces": sum(len(j.faces) for j in jobs),
        "p50": statistics.median(latency) / 1e9,
        "p95": latency[int(0.95 * (len(latency) - 1))] / 1e9,
        "hist": dict(sorted(hist.items())),
        "across": listing.embed_batches_across_jobs - before.embed_batches_across_jobs,
    }


def direct_embed(device: str, batch: int, crops: int, threads: int) -> float:
    """Crops per second through the embedder alone, `batch` crops per call."""
    import numpy as np
    import torch

    from facerec.compute.models.embedder import Embedder
    from facerec.compute.tasks import standardise

    torch.set_num_threads(threads)
    embedder = Embedder(None, device)
    pixels = np.random.default_rng(0).integers(0, 256, (batch, 160, 160, 3), dtype=np.uint8)
    tensor = torch.from_numpy(standardise(pixels))
    embedder.embed(tensor)  # warm-up (CUDA kernels, allocator)
    calls = max(1, crops // batch)
    t0 = time.perf_counter()
    for _ in range(calls):
        embedder.embed(tensor)
    return calls * batch / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--delay-ms", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="task slots per worker")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per process")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--remote", type=int, default=0, help="remote worker processes")
    parser.add_argument("--direct-crops", type=int, default=64, help="crops per direct run")
    args = parser.parse_args()
    one = direct_embed(args.device, 1, args.direct_crops, args.threads)
    many = direct_embed(args.device, args.batch, args.direct_crops, args.threads)
    print(
        f"embedder alone on {args.device}: {one:.1f} crops/s one at a time,"
        f" {many:.1f} crops/s in batches of {args.batch} (ratio {many / one:.2f})"
    )
    results = []
    for batch in (1, args.batch):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(args, batch, Path(tmp)))
    where = f"{args.remote} remote workers" if args.remote else "in-process worker"
    print(
        f"\n{args.jobs} jobs at once, {where}, {args.workers} task slots each, device"
        f" {args.device}, max_queue_delay_ms {args.delay_ms}\n"
    )
    print(
        "| max_batch_size | jobs/s | wall s | job p50 s | job p95 s | EMBED batches (size: count)"
        " | mixing jobs |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in results:
        hist = ", ".join(f"{k}: {v}" for k, v in r["hist"].items())
        print(
            f"| {r['batch']} | {r['jobs_per_s']:.2f} | {r['wall']:.1f} | {r['p50']:.2f} |"
            f" {r['p95']:.2f} | {hist} | {r['across']} |"
        )
    base, batched = results
    print(
        "\nthroughput ratio (batched / unbatched):",
        f"{batched['jobs_per_s'] / base['jobs_per_s']:.2f}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
