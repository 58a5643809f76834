"""Recognition quality and embed cost per model, on the shared test photos.

Detects every face once (MTCNN, as the service does), cuts each model's crop, embeds it, and
prints for each model the cosine similarity of same-person pairs (the five photos of Obama)
and of different-person pairs (everyone else, the six faces of the group photo included),
the margin between them, where the model's default threshold falls, and the embed time per
face. The untrained FaceNet network is the baseline: same architecture and cost as the
trained one, and no recognition.

    .venv/bin/python benchmarks/recognition_quality.py [--faces ../shared/faces] [--threads 2]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facerec.compute.config import ComputeConfig  # noqa: E402
from facerec.compute.errors import WeightsError  # noqa: E402
from facerec.compute.models import catalog, photo, registry  # noqa: E402
from facerec.compute.models.detector import Detector  # noqa: E402

OBAMA = {"obama.jpg", "obama2.jpg", "obama3.jpg", "32bit.png", "obama_partial_face.jpg"}


def faces_of(detector: Detector, folder: Path) -> list[tuple[str, str, object, object]]:
    """(label, photo name, image, detection) for every face scoring 0.9 or more."""
    found = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".jpg", ".png")):
        img = photo.load_rgb(path)
        for n, det in enumerate(d for d in detector.detect(img) if d.score >= 0.9):
            label = "obama" if path.name in OBAMA else f"{path.stem}#{n}"
            found.append((label, path.name, img, det))
    return found


def per_face_ms(embedder, crops: np.ndarray, batch: int, rounds: int = 3) -> float:
    stack = np.concatenate([crops] * (batch // len(crops) + 1))[:batch]
    embedder.embed_crops(stack)  # warm up
    start = time.perf_counter()
    for _ in range(rounds):
        embedder.embed_crops(stack)
    return (time.perf_counter() - start) / rounds / batch * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--threads", type=int, default=2, help="torch and ONNX Runtime threads")
    parser.add_argument("--weights-path", type=Path, help="vggface2 weights, to include FaceNet")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    detector = Detector("cpu")
    found = faces_of(detector, args.faces)
    labels = [label for label, *_ in found]
    print(f"{len(found)} faces in {len({name for _, name, *_ in found})} photos;")
    print(f"same-person pairs: the {len(OBAMA)} photos of Obama; every other pair is different\n")

    choices = [registry.Choice(catalog.UNTRAINED, None), registry.Choice(catalog.SFACE, None)]
    cfg = ComputeConfig(weights_path=args.weights_path, weights_url="", model=catalog.FACENET.id)
    try:
        choices.insert(0, registry.choose(cfg))
    except WeightsError as exc:
        print(f"facenet-vggface2 left out: {str(exc).split('. ')[0]}\n")

    header = (
        f"{'model':<20} {'same: min / median':>19} {'different: median / max':>24}"
        f" {'margin':>7} {'threshold':>9} {'separates':>9} {'ms/face b1':>10} {'b16':>6}"
    )
    print(header)
    print("-" * len(header))
    costs, hardest, enrolled = {}, {}, {}
    for choice in choices:
        spec = choice.spec
        embedder = registry.load(choice, "cpu", args.threads)
        crops = np.concatenate(
            [detector.crop_images(img, [det], spec.crop) for _, _, img, det in found]
        )
        vectors = embedder.embed_crops(crops)
        same, different = [], []
        named: list[tuple[float, bool, str, str]] = []
        for i, j in itertools.combinations(range(len(found)), 2):
            sim = float(vectors[i] @ vectors[j])
            (same if labels[i] == labels[j] else different).append(sim)
            named.append((sim, labels[i] == labels[j], found[i][1], found[j][1]))
        names = [name for _, name, *_ in found]
        gallery = {who: vectors[names.index(f"{who}.jpg")] for who in ("obama", "biden")}
        enrolled[spec.id] = (
            min(
                float(vectors[i] @ gallery["obama"])
                for i in range(len(found))
                if labels[i] == "obama" and names[i] != "obama.jpg"
            ),
            max(
                float(vectors[i] @ g)
                for i in range(len(found))
                for who, g in gallery.items()
                if names[i] not in ("obama.jpg", "biden.jpg") and labels[i] != who
            ),
            spec.min_similarity,
        )
        hardest[spec.id] = (
            sorted(n for n in named if n[1])[:3],
            sorted((n for n in named if not n[1]), reverse=True)[:3],
        )
        margin = min(same) - max(different)
        separates = min(same) >= spec.min_similarity > max(different)
        costs[spec.id] = (per_face_ms(embedder, crops, 1), per_face_ms(embedder, crops, 16))
        print(
            f"{spec.id:<20} {min(same):>9.3f} / {np.median(same):.3f}"
            f" {np.median(different):>14.3f} / {max(different):.3f} {margin:>7.3f}"
            f" {spec.min_similarity:>9.2f} {'yes' if separates else 'NO':>9}"
            f" {costs[spec.id][0]:>10.1f} {costs[spec.id][1]:>6.1f}"
        )
    print("\nas the service sees it, with obama.jpg and biden.jpg enrolled:")
    for model_id, (low, high, threshold) in enrolled.items():
        verdict = "separates" if low >= threshold > high else "does NOT separate"
        print(
            f"  {model_id:<20} Obama's other photos >= {low:.3f}, anyone else <= {high:.3f}:"
            f" margin {low - high:.3f}; threshold {threshold:.2f} {verdict}"
        )
    for model_id, (far, close) in hardest.items():
        print(f"\n{model_id}: least alike same-person pairs, most alike different-person pairs")
        for sim, is_same, a, b in [*far, *close]:
            print(f"  {'same' if is_same else 'diff'} {sim:6.3f}  {a} ~ {b}")
    base = costs[catalog.UNTRAINED.id]
    print("\nembed cost per face against FaceNet's network (the untrained baseline):")
    for model_id, (b1, b16) in costs.items():
        print(f"  {model_id:<20} batch 1: {b1 / base[0]:.2f}x   batch 16: {b16 / base[1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
