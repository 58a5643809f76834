"""What work on the other cores costs the embedder and the detector, in one run.

The throughput benchmark compares the embed stage with the embedder's own best, measured
alone. This measures how much of that best is left while something else runs beside it:
MTCNN detection in a thread or a process (what a second worker does), or a plain Python loop
in another process (no shared interpreter lock, no shared memory traffic to speak of), and
the detector's rate with the embedder beside it. Each side uses one torch (and ONNX Runtime)
thread; for scale, the embedder alone with a thread per core is printed too.

    .venv/bin/python benchmarks/core_contention.py [--seconds 8] [--batch 16]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facerec.compute.models import photo  # noqa: E402
from facerec.compute.models.detector import Detector  # noqa: E402
from facerec.compute.models.embedder import Embedder  # noqa: E402

FACES = ROOT.parent / "shared" / "faces"


def _detect_forever(stop: Any) -> None:
    torch.set_num_threads(1)
    detector = Detector("cpu")
    img = photo.load_rgb(FACES / "multiface.jpg")
    while not stop.is_set():
        with torch.inference_mode():
            detector.detect(img, 40)


def _spin_forever(stop: Any) -> None:
    x = 0
    while not stop.is_set():
        x += 1


def _embed_forever(stop: Any, embedder: Embedder, crops: np.ndarray) -> None:
    while not stop.is_set():
        embedder.embed_crops(crops)


def rate(step: Callable[[], int], seconds: float) -> float:
    step()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += step()
    return done / (time.perf_counter() - start)


def beside(target: Callable[..., None], args: tuple, process: bool) -> tuple[Any, Any]:
    stop = mp.Event() if process else threading.Event()
    runner = (mp.Process if process else threading.Thread)(target=target, args=(stop, *args))
    runner.start()
    time.sleep(3.0 if process else 1.0)  # a process loads its model first
    return stop, runner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)
    embedder = Embedder(None, threads=1)
    crops = np.random.default_rng(0).integers(0, 256, (args.batch, 160, 160, 3), dtype=np.uint8)
    detector = Detector("cpu")
    img = photo.load_rgb(FACES / "multiface.jpg")

    def embed() -> int:
        embedder.embed_crops(crops)
        return len(crops)

    def detect() -> int:
        with torch.inference_mode():
            detector.detect(img, 40)
        return 1

    alone = rate(embed, args.seconds)
    cores = os.cpu_count() or 1
    wide = Embedder(None, threads=cores)
    wide_rate = rate(lambda: len(wide.embed_crops(crops)), args.seconds)
    print(f"embedder, batch {args.batch}, 1 thread: crops/s   ratio to alone")
    print(f"  alone{'':34} {alone:7.1f}   1.00")
    print(f"  alone with {cores} threads{'':22} {wide_rate:7.1f}   {wide_rate / alone:.2f}")
    for label, target, extra, process in [
        ("MTCNN in another thread", _detect_forever, (), False),
        ("MTCNN in another process", _detect_forever, (), True),
        ("a Python loop in another process", _spin_forever, (), True),
    ]:
        stop, runner = beside(target, extra, process)
        got = rate(embed, args.seconds)
        stop.set()
        runner.join()
        print(f"  beside {label:32} {got:7.1f}   {got / alone:.2f}")
    detect_alone = rate(detect, args.seconds)
    stop, runner = beside(_embed_forever, (embedder, crops), False)
    detect_beside = rate(detect, args.seconds)
    stop.set()
    runner.join()
    print("MTCNN on multiface.jpg (smallest face 40 px), 1 thread: photos/s   ratio")
    print(f"  alone                               {detect_alone:7.2f}   1.00")
    print(
        f"  beside the embedder in a thread     {detect_beside:7.2f}"
        f"   {detect_beside / detect_alone:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
