"""Checking and decoding uploaded photos (Pillow), EXIF orientation included."""

from __future__ import annotations

import io
import math
import mmap
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facerec.compute.errors import InvalidArgument

# The pixel cap is enforced here, from the header, before any decoding.
Image.MAX_IMAGE_PIXELS = None

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "GIF"})
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class PhotoHeader:
    """What checking a photo found out: its format and size as the user sees it."""

    format: str
    width: int
    height: int


# The smallest face MTCNN finds is 12 pixels: a photo narrower than that holds none.
MIN_SIDE = 12


# Detection cost is measured in megapixels at this smallest face (the default setting).
COST_FACE_PX = 40


def detection_cost(width: int, height: int, min_face_size: int) -> float:
    """What detecting faces down to `min_face_size` px in a `width`x`height` photo costs, in
    megapixels at COST_FACE_PX: MTCNN's work and memory grow with pixels x (1 / face)^2.
    On one CPU core about 0.06-0.09 s and 13 MB per unit (benchmarks/photo_cost.py)."""
    return width * height / 1e6 * (COST_FACE_PX / min_face_size) ** 2


@dataclass(frozen=True)
class PhotoLimits:
    """What a photo may cost: pixels (decoding memory) and detection work."""

    max_pixels: int
    max_detection_cost: float  # megapixels at COST_FACE_PX
    min_face_size: int  # the job's smallest face, px


def _check_cost(width: int, height: int, limits: PhotoLimits) -> None:
    cost = detection_cost(width, height, limits.min_face_size)
    if cost <= limits.max_detection_cost:
        return
    face = limits.min_face_size
    largest = math.floor(limits.max_detection_cost * (face / COST_FACE_PX) ** 2 * 10) / 10
    smallest_face = COST_FACE_PX * (cost / limits.max_detection_cost) ** 0.5
    raise InvalidArgument(
        f"the photo is {width}x{height} ({width * height / 1e6:.1f} megapixels): looking for"
        f" faces down to {face} px in it would cost {cost:.0f} units of detection work, past"
        f" the limit of {limits.max_detection_cost:g}; send a photo of at most"
        f" {largest:.1f} megapixels, or a min_face_size of at least {int(smallest_face) + 1} px",
        reason="PHOTO_TOO_COSTLY",
    )


_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def _sniff(path: Path) -> str:
    """The accepted format whose signature the file starts with, or ""."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((name for magic, name in _SIGNATURES if head.startswith(magic)), "")


def check(path: Path, size_bytes: int, limits: PhotoLimits) -> PhotoHeader:
    """Validates a spooled photo fully (header, pixel count, detection cost, complete decode).

    Raises InvalidArgument with a reason of PHOTO_EMPTY, UNSUPPORTED_FORMAT,
    PHOTO_TOO_SMALL, PHOTO_TOO_MANY_PIXELS, PHOTO_TOO_COSTLY or PHOTO_CORRUPT.
    """
    if size_bytes == 0:
        raise InvalidArgument("the photo is empty (0 bytes)", reason="PHOTO_EMPTY")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(path)
    except UnidentifiedImageError:
        looks_like = _sniff(path)
        if looks_like:
            raise InvalidArgument(
                f"the photo starts like a {looks_like} file but its header is damaged;"
                " send the original file again",
                reason="PHOTO_CORRUPT",
            ) from None
        raise InvalidArgument(
            "the upload is not a photo in a known format; send JPEG, PNG, WEBP, BMP, TIFF or GIF",
            reason="UNSUPPORTED_FORMAT",
        ) from None
    except Exception as exc:
        raise _corrupt(exc) from None
    with img:
        fmt = img.format or "unknown"
        if fmt not in ACCEPTED_FORMATS:
            raise InvalidArgument(
                f"{fmt} photos are not supported; send JPEG, PNG, WEBP, BMP, TIFF or GIF",
                reason="UNSUPPORTED_FORMAT",
            )
        width, height = img.size
        if min(width, height) < MIN_SIDE:
            raise InvalidArgument(
                f"the photo is {width}x{height} pixels; a face needs at least {MIN_SIDE} pixels"
                " each way, so send a photo at least that large on both sides",
                reason="PHOTO_TOO_SMALL",
            )
        if width * height > limits.max_pixels:
            raise InvalidArgument(
                f"the photo is {width}x{height} ({width * height / 1e6:.0f} megapixels);"
                f" the limit is {limits.max_pixels / 1e6:.0f} megapixels",
                reason="PHOTO_TOO_MANY_PIXELS",
            )
        _check_cost(width, height, limits)
        try:
            orientation = _orientation(img)
            if fmt in ("JPEG", "MPO"):
                if not _ends_with_eoi(path):
                    # No end-of-image marker last: truncated, or data appended after the
                    # image. Decoding (at 1/8 scale, which still reads every byte of the
                    # entropy-coded data) tells the two apart.
                    img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                    img.load()
            elif fmt == "PNG":
                _check_png_chunks(path)
            else:
                img.load()
        except InvalidArgument:
            raise
        except Exception as exc:
            raise _corrupt(exc) from None
    if orientation in _ROTATED:
        width, height = height, width
    return PhotoHeader(format=fmt, width=width, height=height)


def _check_png_chunks(path: Path) -> None:
    """Checks every chunk's CRC up to IEND without inflating pixels.

    Pillow's own verify does the same a chunk at a time in Python (about 1.4 ms for an
    860 KB file of 8 KB chunks); here the file is mapped and zlib reads it in place.
    """
    with (
        path.open("rb") as f,
        mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data,
        memoryview(data) as view,
    ):
        pos = 8  # after the signature, which Image.open checked
        while True:
            if pos + 12 > len(data):
                raise SyntaxError("the file ends before the IEND chunk")
            length, kind = struct.unpack_from(">I4s", data, pos)
            end = pos + 8 + length
            if end + 4 > len(data):
                raise SyntaxError(f"the {kind.decode('latin-1')} chunk is cut off")
            with view[pos + 4 : end] as chunk:
                crc = zlib.crc32(chunk)
            if crc != struct.unpack_from(">I", data, end)[0]:
                raise SyntaxError(f"broken data in a {kind.decode('latin-1')} chunk (bad CRC)")
            if kind == b"IEND":
                return
            pos = end + 4


def _ends_with_eoi(path: Path) -> bool:
    """Whether a JPEG ends with its end-of-image marker (trailing padding allowed)."""
    with path.open("rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 4096))
        tail = f.read().rstrip(b"\x00\r\n\t ")
    return tail.endswith(b"\xff\xd9")


def _orientation(img: Image.Image) -> int:
    if img.format == "PNG":
        # Only an eXIf chunk before the pixels counts here: reading further would decode.
        raw = img.info.get("exif")
        if not raw:
            return 1
        exif = Image.Exif()
        exif.load(raw)
        return exif.get(0x0112, 1)
    return img.getexif().get(0x0112, 1)


def _corrupt(exc: Exception) -> InvalidArgument:
    return InvalidArgument(
        f"the photo is truncated or corrupt and cannot be decoded ({exc})",
        reason="PHOTO_CORRUPT",
    )


def crop_to_png(crop: np.ndarray) -> bytes:
    """A (size, size, 3) uint8 RGB face crop as a PNG file (lossless, as it is stored)."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(crop), "RGB").save(out, "PNG", compress_level=6)
    return out.getvalue()


def crop_from_png(data: bytes) -> np.ndarray:
    """A stored face crop back as (size, size, 3) uint8 RGB."""
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def load_rgb(path: Path | BinaryIO) -> Image.Image:
    """Decodes a photo as 8-bit RGB, turned upright per its EXIF orientation."""
    with Image.open(path) as img:
        upright = ImageOps.exif_transpose(img)
        return upright.convert("RGB")
