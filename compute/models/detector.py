"""Face detection with facenet-pytorch's MTCNN (weights ship inside the package)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from facenet_pytorch import MTCNN
from PIL import Image

from facerec.compute.models.align import arcface_crop
from facerec.compute.tasks import CROP_SIZE, CropKind

# MTCNN finds faces down to this size comfortably (facenet-pytorch's default).
DETECTION_FACE_PX = 20
# The reduced photo keeps at least this many pixels on its shorter side.
_MIN_REDUCED_SIDE = 48


def detection_scale(size: tuple[int, int], min_face_size: int) -> int:
    """The integer factor a photo of `size` is reduced by for detection: as much as keeps
    the smallest face at DETECTION_FACE_PX or more, never below a usable photo size."""
    scale = max(1, int(min_face_size // DETECTION_FACE_PX))
    return max(1, min(scale, min(size) // _MIN_REDUCED_SIDE))


@dataclass(frozen=True)
class Detection:
    """One face as the detector sees it, in pixels of the image it was given."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...]


class Detector:
    """MTCNN on a torch device; thread-compatible, not thread-safe (one per worker)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.mtcnn = MTCNN(
            image_size=CROP_SIZE,
            margin=0,
            keep_all=True,
            select_largest=False,
            post_process=True,
            device=self.device,
        )
        self.mtcnn.eval()

    def detect(self, img: Image.Image, min_face_size: int = 20) -> list[Detection]:
        """Every face MTCNN finds of at least `min_face_size` pixels, highest score first.

        MTCNN looks at the photo reduced by `detection_scale(...)`, so that the smallest face
        is still 20 px there (its own default): the same image pyramid at a fraction of the
        cost of building it from the full photo. Boxes and landmarks come back in pixels of
        `img`, and crops are cut from `img` itself.
        """
        if min(img.size) < min_face_size:
            return []  # no face that large fits (and MTCNN's image pyramid would be empty)
        scale = detection_scale(img.size, min_face_size)
        small = img.reduce(scale) if scale > 1 else img
        self.mtcnn.min_face_size = min_face_size / scale
        with torch.inference_mode():
            boxes, probs, points = self.mtcnn.detect(small, landmarks=True)
        if boxes is None:
            return []
        found = [
            Detection(
                box=tuple(float(v) * scale for v in box),
                score=float(prob),
                landmarks=tuple((float(x) * scale, float(y) * scale) for x, y in pts),
            )
            for box, prob, pts in zip(boxes, probs, points, strict=True)
        ]
        found.sort(key=lambda d: d.score, reverse=True)
        return found

    def crops(self, img: Image.Image, detections: list[Detection]) -> torch.Tensor:
        """160x160 standardised face crops (n, 3, 160, 160), ready for the embedder."""
        if not detections:
            return torch.zeros((0, 3, CROP_SIZE, CROP_SIZE))
        boxes = np.array([d.box for d in detections], dtype=np.float32)
        with torch.inference_mode():
            faces = self.mtcnn.extract(img, boxes, None)
        return faces.reshape(len(detections), 3, CROP_SIZE, CROP_SIZE)

    def crop_images(
        self, img: Image.Image, detections: list[Detection], kind: CropKind = CropKind.BOX_160
    ) -> np.ndarray:
        """The faces cut as `kind` says, 8-bit RGB (n, size, size, 3), as they travel to EMBED
        workers. ARCFACE_112 crops are aligned from the full photo by the landmarks.

        BOX_160 is lossless: MTCNN cuts and resizes PIL images in 8 bits before standardising.
        """
        if kind is CropKind.ARCFACE_112:
            if not detections:
                return np.zeros((0, kind.size, kind.size, 3), np.uint8)
            pixels = np.asarray(img)
            return np.stack([arcface_crop(pixels, np.array(d.landmarks)) for d in detections])
        crops = self.crops(img, detections).numpy()
        pixels = np.rint(crops * 128.0 + 127.5).clip(0, 255).astype(np.uint8)
        return pixels.transpose(0, 2, 3, 1).copy()
