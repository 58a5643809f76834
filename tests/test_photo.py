"""Photo checks before a job is queued: formats, sizes, bombs, EXIF orientation."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from facerec.compute.errors import InvalidArgument
from facerec.compute.models import photo
from tests.test_bad_input import bomb_png

LIMITS = photo.PhotoLimits(max_pixels=50_000_000, max_detection_cost=64, min_face_size=40)


def test_exif_rotation_swaps_reported_size(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    Image.new("RGB", (300, 200), (200, 10, 10)).save(path, exif=exif)
    header = photo.check(path, path.stat().st_size, LIMITS)
    assert (header.format, header.width, header.height) == ("JPEG", 200, 300)
    assert photo.load_rgb(path).size == (200, 300)


def test_rgba_png_loads_as_rgb(faces: Path) -> None:
    img = photo.load_rgb(faces / "32bit.png")
    assert img.mode == "RGB"


def test_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png())
    with pytest.raises(InvalidArgument, match="50000x50000") as info:
        photo.check(path, path.stat().st_size, LIMITS)
    assert info.value.reason == "PHOTO_TOO_MANY_PIXELS"


def _pillow_verifies(path: Path) -> bool:
    try:
        with Image.open(path) as img:
            img.verify()
        return True
    except (OSError, SyntaxError, ValueError):
        return False


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[: len(b) // 2], "cut off"),
        (lambda b: b[:-12], "ends before the IEND"),
        (lambda b: b[: len(b) // 2] + bytes([b[len(b) // 2] ^ 0x55]) + b[len(b) // 2 + 1 :], "CRC"),
    ],
    ids=["truncated", "no IEND", "flipped byte"],
)
def test_damaged_png_is_refused_as_pillow_would(
    faces: Path, tmp_path: Path, damage, message: str
) -> None:
    good = (faces / "32bit.png").read_bytes()
    header = photo.check(faces / "32bit.png", len(good), LIMITS)
    assert (header.format, header.width, header.height) == ("PNG", 626, 1200)
    path = tmp_path / "damaged.png"
    path.write_bytes(damage(good))
    assert not _pillow_verifies(path)
    with pytest.raises(InvalidArgument, match=message) as info:
        photo.check(path, path.stat().st_size, LIMITS)
    assert info.value.reason == "PHOTO_CORRUPT"
    path.write_bytes(good + b"trailing bytes after IEND")
    assert _pillow_verifies(path)
    assert photo.check(path, path.stat().st_size, LIMITS).format == "PNG"


@pytest.mark.parametrize(
    ("size", "min_face", "refused"),
    [
        ((7000, 7000), 40, False),
        ((7000, 7000), 12, True),
        ((4000, 4000), 20, False),
        ((4100, 4000), 20, True),
        ((2390, 2390), 12, False),
        ((2500, 2500), 12, True),
    ],
)
def test_cost_limit_weighs_pixels_by_the_smallest_face(
    tmp_path: Path, size: tuple[int, int], min_face: int, refused: bool
) -> None:
    path = tmp_path / "flat.png"
    Image.new("RGB", size, (90, 90, 90)).save(path)
    limits = photo.PhotoLimits(max_pixels=50_000_000, max_detection_cost=64, min_face_size=min_face)
    if not refused:
        assert photo.check(path, path.stat().st_size, limits).width == size[0]
        return
    with pytest.raises(InvalidArgument) as info:
        photo.check(path, path.stat().st_size, limits)
    assert info.value.reason == "PHOTO_TOO_COSTLY"
    # The message says what would be accepted instead, and both suggestions hold.
    words = info.value.message
    largest_mp = float(words.split("at most ")[1].split(" megapixels")[0])
    face = int(words.split("min_face_size of at least ")[1].split(" px")[0])
    assert photo.detection_cost(size[0], size[1], face) <= 64
    assert largest_mp * 1e6 * (40 / min_face) ** 2 / 1e6 <= 64.1
    assert largest_mp < size[0] * size[1] / 1e6
