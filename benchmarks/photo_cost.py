"""What a photo costs a worker: detection time and memory against the detection-cost units
the upload check charges (megapixels x (40 / min_face_size)^2, `--max-detection-cost`).

Each case runs in a fresh process on one CPU thread (decode + MTCNN, as a DETECT task does) and
prints seconds, the peak memory it added, seconds per unit, and the ratio of that to the
baseline case (a 1 MP photo at 40 px) measured in the same run. A flat PNG is the cheap upload
an attacker sends (kilobytes for many megapixels); a real face photo, scaled, costs more per
unit because MTCNN's later stages see more candidates.

    .venv/bin/python benchmarks/photo_cost.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACE = ROOT.parent / "shared" / "faces" / "obama.jpg"

CHILD = r"""
import json, resource, sys, tempfile, time
import torch
from PIL import Image
from facerec.compute.models import photo
from facerec.compute.models.detector import Detector
torch.set_num_threads(1)
kind, side, min_face, face_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
det = Detector()
det.detect(Image.new("RGB", (200, 200)), 40)  # warm up
with tempfile.TemporaryDirectory() as tmp:
    if kind == "flat":
        path = f"{tmp}/p.png"
        Image.new("RGB", (side, side), (120, 110, 100)).save(path)
    else:
        path = f"{tmp}/p.jpg"
        Image.open(face_path).convert("RGB").resize((side, side)).save(path, quality=90)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    found = det.detect(photo.load_rgb(path), min_face)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "mb": (after - before) / 1024, "faces": len(found)}))
"""


def run_case(kind: str, megapixels: float, min_face: int) -> dict[str, float]:
    side = int((megapixels * 1e6) ** 0.5)
    out = (
        subprocess.run(
            [sys.executable, "-c", CHILD, kind, str(side), str(min_face), str(FACE)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller cases")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from facerec.compute.models.photo import detection_cost

    cases = [
        ("flat", 1, 40),
        ("flat", 16, 40),
        ("flat", 16, 20),
        ("face", 1, 40),
        ("face", 16, 40),
        ("face", 16, 20),
    ]
    if not args.quick:
        cases += [("flat", 49, 40), ("flat", 36, 20), ("face", 36, 40), ("face", 5.7, 12)]
    base = None
    print(f"{'photo':>6} {'MP':>5} {'face':>5} {'units':>6} {'s':>7} {'MB':>7} {'s/unit':>7} ratio")
    for kind, mp, face in cases:
        r = run_case(kind, mp, face)
        side = int((mp * 1e6) ** 0.5)
        units = detection_cost(side, side, face)
        per_unit = r["seconds"] / units
        if base is None:
            base = per_unit
        print(
            f"{kind:>6} {mp:>5g} {face:>5} {units:>6.1f} {r['seconds']:>7.2f} {r['mb']:>7.0f}"
            f" {per_unit:>7.3f} {per_unit / base:>5.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
