"""Throughput: a naive facenet-pytorch loop against facerec's compute server, same photos and
cores, in one run.

The baseline is what one would write first: for each photo, decode it, MTCNN (keep_all),
then InceptionResnetV1 on the crops, one photo after another. facerec gets every photo
submitted at once and is timed to its last result. Both count the faces scoring 0.9 or more;
a photo where facerec finds fewer is printed. facerec serves the same network as the
baseline (the untrained FaceNet: the trained one costs the same) unless --model says
otherwise. The loop gets a torch thread per core (--threads); facerec shares the cores out as
it does by default (a worker thread per core, one model thread each) unless flags after --
say otherwise.

The embed stage's rate (crops over the seconds the workers spent in EMBED tasks) is put
against the embedder's own best over batch sizes, measured alone in this process on the faces
of the same photos, with the threads each of facerec's embedding calls had, and, for scale,
with a thread per core.

    .venv/bin/python benchmarks/throughput.py [--repeat 3] [--threads N] [--device cpu]
        [--model facenet-untrained] [-- extra facerec compute flags]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from facenet_pytorch import MTCNN, InceptionResnetV1

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facerec.compute.cli import client  # noqa: E402
from facerec.compute.config import ComputeConfig  # noqa: E402
from facerec.compute.models import photo  # noqa: E402
from facerec.compute.models.detector import Detector  # noqa: E402
from facerec.compute.models.embedder import Embedder  # noqa: E402
from facerec.compute.tasks import STAGES  # noqa: E402
from facerec.v1 import job_pb2  # noqa: E402
from facerec.v1 import worker_service_pb2 as wpb  # noqa: E402
from tests.conftest import ComputeProcess  # noqa: E402
from tests.helpers import child_pids  # noqa: E402

MIN_SCORE = 0.9


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its finished children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def stage_totals(api: client.Api) -> dict[str, float]:
    """Seconds per stage and crops embedded, summed over the connected workers, and EMBED
    tasks by batch size (keys "batch N")."""
    totals: dict[str, float] = {}
    listing = api.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=10)
    for w in listing.workers:
        for stage, seconds in w.stage_seconds.items():
            totals[stage] = totals.get(stage, 0.0) + seconds
        totals["crops"] = totals.get("crops", 0.0) + w.crops_embedded
    for b in listing.embed_batch_sizes:
        totals[f"batch {b.batch_size}"] = b.count
    return totals


def embed_threads(extra: list[str]) -> int:
    """The model threads of each of facerec's worker threads, as `facerec compute` resolves
    them from `extra`."""
    flags = {"--torch-threads": 0, "--workers": 0}
    for flag, value in itertools.pairwise(extra):
        if flag in flags:
            flags[flag] = int(value)
    return ComputeConfig(
        torch_threads=flags["--torch-threads"], workers=flags["--workers"]
    ).model_threads


def face_crops(photos: list[Path], most: int = 32) -> np.ndarray:
    """The BOX_160 crops of the faces scoring MIN_SCORE or more in `photos`, repeated to
    `most`: what facerec's EMBED tasks carry."""
    detector = Detector("cpu")
    crops = []
    for path in photos:
        img = photo.load_rgb(path)
        found = [d for d in detector.detect(img, 40) if d.score >= MIN_SCORE]
        if found:
            crops.extend(detector.crop_images(img, found))
    return np.stack([crops[n % len(crops)] for n in range(most)])


def best_embed_rate(threads: int, crops: np.ndarray, device: str) -> tuple[float, int]:
    """The embedder's own best crops/s over batch sizes, and that size (in this process)."""
    torch.set_num_threads(threads)
    embedder = Embedder(None, device, threads=threads)
    best = (0.0, 0)
    for size in (1, 2, 4, 8, 16, 32):
        embedder.embed_crops(crops[:size])
        start = time.perf_counter()
        for _ in range(3):
            embedder.embed_crops(crops[:size])
        best = max(best, (3 * size / (time.perf_counter() - start), size))
    return best


def naive(photos: list[Path], device: str) -> tuple[float, dict[str, float], Counter]:
    """The loop; returns wall seconds, seconds per stage, faces per photo name."""
    mtcnn = MTCNN(keep_all=True, device=device)
    resnet = InceptionResnetV1().eval().to(device)
    stages = dict.fromkeys(("decode", "detect", "crop", "embed"), 0.0)
    found: Counter = Counter()
    start = time.perf_counter()
    for path in photos:
        t0 = time.perf_counter()
        img = photo.load_rgb(path)
        t1 = time.perf_counter()
        with torch.inference_mode():
            boxes, probs = mtcnn.detect(img)
        t2 = time.perf_counter()
        keep = (
            []
            if boxes is None
            else [b for b, p in zip(boxes, probs, strict=True) if p >= MIN_SCORE]
        )
        t3 = t2
        if keep:
            with torch.inference_mode():
                crops = mtcnn.extract(img, np.array(keep), None)
                t3 = time.perf_counter()
                resnet(crops.reshape(len(keep), 3, 160, 160).to(device))
        t4 = time.perf_counter()
        stages["decode"] += t1 - t0
        stages["detect"] += t2 - t1
        stages["crop"] += t3 - t2
        stages["embed"] += t4 - t3
        found[path.name] = len(keep)
    return time.perf_counter() - start, stages, found


def service(
    photos: list[Path], model: str, device: str, extra: list[str]
) -> tuple[float, float, float, float, Counter, dict[str, float]]:
    """facerec with every photo submitted at once; returns wall seconds, compute CPU seconds,
    idle and peak RSS (MiB), faces per photo name, and mean queue and service seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        server = ComputeProcess(
            Path(tmp) / "data",
            "--model",
            model,
            # the test harness starts compute with 2 torch threads; use facerec's own share
            "--torch-threads",
            str(embed_threads(extra)),
            "--device",
            device,
            "--max-queued-jobs",
            str(len(photos) + 10),
            *extra,
        )
        server.start()
        try:
            with client.connect(server.target, server.key) as api:
                api.wait(api.submit(photos[0], job_pb2.JobSpec()).id)  # warm-up
                before = stage_totals(api)
                pid = server.proc.pid
                kids = child_pids(pid)
                idle_rss = rss_mib(pid) + sum(rss_mib(k) for k in kids)
                cpu0 = cpu_seconds(pid) + sum(cpu_seconds(k) for k in kids)
                done: dict[str, job_pb2.Job] = {}
                start = time.perf_counter()
                jobs = [(path, api.submit(path, job_pb2.JobSpec())) for path in photos]

                def wait(job_id: str) -> None:
                    done[job_id] = api.wait(job_id)

                waiters = [threading.Thread(target=wait, args=(j.id,)) for _, j in jobs]
                for t in waiters:
                    t.start()
                for t in waiters:
                    t.join()
                wall = time.perf_counter() - start
                cpu = cpu_seconds(pid) + sum(cpu_seconds(k) for k in kids) - cpu0
                worker_rss = [rss_mib(k, "VmHWM") for k in kids]
                after = stage_totals(api)
                peak = rss_mib(pid, "VmHWM") + sum(worker_rss)
        finally:
            server.kill()
    found: Counter = Counter()
    for path, job in jobs:
        result = done[job.id]
        assert result.state == job_pb2.JOB_STATE_SUCCEEDED, result.error
        found[path.name] = min(found.get(path.name, 99), len(result.faces))
    times = {k: after[k] - before.get(k, 0.0) for k in after}
    spans = [
        (done[j.id].update_time.ToNanoseconds() - done[j.id].create_time.ToNanoseconds()) / 1e9
        for _, j in jobs
    ]
    times["queue+service"] = sum(spans) / len(spans)
    times.update({f"worker process {n} peak RSS MiB": r for n, r in enumerate(worker_rss)})
    return wall, cpu, idle_rss, peak, found, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--repeat", type=int, default=3, help="each photo this many times")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="the naive loop's torch threads"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default="facenet-untrained")
    parser.add_argument("extra", nargs="*", help="more `facerec compute` flags, after --")
    args = parser.parse_args()
    names = sorted(p for p in args.faces.iterdir() if p.suffix in (".jpg", ".png"))
    photos = names * args.repeat
    torch.set_num_threads(args.threads)
    extra = list(args.extra)
    if args.model == "facenet-untrained":
        extra.append("--allow-untrained")

    self_cpu0 = time.process_time()
    base_wall, stages, base_found = naive(photos, args.device)
    base_cpu = time.process_time() - self_cpu0
    wall, cpu, idle, peak, found, times = service(photos, args.model, args.device, extra)

    n = len(photos)
    print(
        f"{n} photos ({len(names)} x {args.repeat}), {args.device}; naive loop: {args.threads}"
        f" torch threads; facerec: {embed_threads(extra)} model threads per worker thread"
    )
    print(f"{'':22} {'photos/s':>9} {'wall s':>7} {'CPU s':>6} {'faces':>6}")
    print(
        f"{'naive loop':22} {n / base_wall:9.2f} {base_wall:7.1f} {base_cpu:6.1f}"
        f" {sum(base_found.values()) * args.repeat:6d}"
    )
    print(
        f"{'facerec (' + args.model + ')':22} {n / wall:9.2f} {wall:7.1f} {cpu:6.1f}"
        f" {sum(found.values()) * args.repeat:6d}"
    )
    print(f"ratio facerec / naive: {base_wall / wall:.2f}x photos/s")
    print(
        "naive stages (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
        + f"; facerec mean submit-to-result {times['queue+service']:.1f} s per photo"
    )
    stage_line = ", ".join(f"{k} {times.get(k, 0.0):.1f}" for k in STAGES)
    print(f"facerec worker stages (s, summed over worker threads): {stage_line}")
    if args.model == "facenet-untrained" and times.get("embed"):
        rate = times.get("crops", 0.0) / times["embed"]
        threads = embed_threads(extra)
        crops = face_crops(sorted(set(photos)))
        best, size = best_embed_rate(threads, crops, args.device)
        print(
            f"embed stage: {rate:.1f} crops/s; the embedder alone at its best with the same"
            f" {threads} thread(s) (batch {size}): {best:.1f} crops/s; {rate / best:.0%} of it"
        )
        cores = os.cpu_count() or 1
        if cores != threads:
            wide, size = best_embed_rate(cores, crops, args.device)
            print(
                f"  for scale: the embedder alone with {cores} threads (batch {size}):"
                f" {wide:.1f} crops/s (facerec's other worker threads detect on those cores)"
            )
    batches = {int(k.split()[1]): int(v) for k, v in times.items() if k.startswith("batch ") and v}
    print(
        "EMBED batches (size: count): "
        + ", ".join(f"{size}: {count}" for size, count in sorted(batches.items()))
    )
    print(f"facerec compute RSS (with its worker processes): {idle:.0f} MiB idle, {peak:.0f} peak")
    for key, value in times.items():
        if key.startswith("worker process"):
            print(f"  {key}: {value:.0f}")
    dropped = [name for name in base_found if found[name] < base_found[name]]
    for name in dropped:
        print(f"FEWER FACES: {name}: naive {base_found[name]}, facerec {found[name]}")
    if not dropped:
        print("faces found: the same or more on every photo")
    return 1 if dropped else 0


if __name__ == "__main__":
    sys.exit(main())
