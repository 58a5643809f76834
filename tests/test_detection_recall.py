"""Detection recall that cannot drift: faces of the smallest size the server looks for are
found in large photos (one above 24 MP), and the shared photos give the face counts that
MTCNN gives at full resolution with facenet-pytorch's defaults."""

from __future__ import annotations

from pathlib import Path

import grpc
import numpy as np
import pytest
import torch
from facenet_pytorch import MTCNN
from PIL import Image

from facerec.compute.cli.client import Api
from facerec.compute.domain import DEFAULT_MIN_FACE_SIZE
from facerec.compute.models import photo
from facerec.compute.models.detector import Detector, detection_scale
from tests.helpers import recognize, rpc_error, spec

SOURCES = ["obama.jpg", "biden.jpg", "angelina_jolie.jpg", "kate_siegel.jpg", "multiface.jpg"]
PHOTOS = [*SOURCES, "obama2.jpg", "obama3.jpg", "32bit.png", "obama_partial_face.jpg"]
PHOTOS += ["paul_rudd.jpg", "shea_whigham.jpg"]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


@pytest.fixture(scope="module")
def face_patches(faces: Path, detector: Detector) -> list[tuple[Image.Image, float]]:
    """Square patches around real faces, with the share of the patch side the face takes."""
    patches = []
    for name in SOURCES:
        img = photo.load_rgb(faces / name)
        for d in detector.detect(img, 20):
            if d.score < 0.9:
                continue
            x1, y1, x2, y2 = d.box
            cx, cy, r = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 0.8
            patch = img.crop((int(cx - r), int(cy - r), int(cx + r), int(cy + r)))
            patches.append((patch, min(x2 - x1, y2 - y1) / (2 * r)))
    return patches


def _canvas(width: int, height: int, face: int, patches, count: int = 24):
    """A noisy grey photo with `count` faces pasted whose boxes are `face` px; their centres."""
    rng = np.random.default_rng(width)
    canvas = Image.fromarray(rng.integers(90, 140, (height, width, 3), dtype=np.uint8))
    centres, step = [], face * 4
    for n in range(count):
        patch, share = patches[n % len(patches)]
        side = round(face / share)
        x = step // 2 + (n % (width // step - 1)) * step
        y = step // 2 + (n // (width // step - 1)) * step
        canvas.paste(patch.resize((side, side), Image.BILINEAR), (x, y))
        centres.append((x + side / 2, y + side / 2))
    return canvas, centres


def _found_at(detections, centres, face: int) -> int:
    def near(d, cx, cy) -> bool:
        mx, my = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        return abs(mx - cx) < face / 2 and abs(my - cy) < face / 2

    return sum(any(near(d, cx, cy) for d in detections) for cx, cy in centres)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("width", "height", "face"),
    [(2000, 1500, DEFAULT_MIN_FACE_SIZE), (6000, 4200, DEFAULT_MIN_FACE_SIZE), (1600, 1200, 20)],
    ids=["3MP", "25MP", "3MP-20px"],
)
def test_faces_of_the_smallest_size_are_found(detector, face_patches, width, height, face) -> None:
    torch.set_num_threads(2)
    canvas, centres = _canvas(width, height, face, face_patches)
    found = [d for d in detector.detect(canvas, face) if d.score >= 0.9]
    assert _found_at(found, centres, face) == len(centres)
    assert len(found) == len(centres)  # and nothing else


def test_shared_photos_give_the_counts_of_full_resolution(faces: Path, detector) -> None:
    """The reduced-scale detection at the default smallest face finds what MTCNN finds in
    the full photo with facenet-pytorch's own defaults (20 px)."""
    full = MTCNN(keep_all=True)
    for name in PHOTOS:
        img = photo.load_rgb(faces / name)
        with torch.inference_mode():
            _, probs = full.detect(img)
        want = 0 if probs is None else int((probs >= 0.9).sum())
        got = [d for d in detector.detect(img, DEFAULT_MIN_FACE_SIZE) if d.score >= 0.9]
        assert len(got) == want, name
        if name == "multiface.jpg":
            assert want == 6


def test_detection_scale_keeps_faces_at_twenty_pixels_and_photos_usable() -> None:
    assert detection_scale((4000, 3000), 40) == 2
    assert detection_scale((4000, 3000), 100) == 5
    assert detection_scale((4000, 3000), 20) == 1
    assert detection_scale((4000, 3000), 12) == 1
    assert detection_scale((200, 60), 100) == 1  # a strip stays whole


def test_a_job_looks_for_faces_of_its_own_smallest_size(api: Api, faces: Path) -> None:
    default = recognize(api, faces / "multiface.jpg")
    assert len(default.faces) == 6
    big_only = recognize(api, faces / "multiface.jpg", min_face_size=400)
    assert len(big_only.faces) == 0  # the group's faces are about 80 px
    err = rpc_error(api.submit, faces / "obama.jpg", spec(min_face_size=11))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "min_face_size" in err.details()
