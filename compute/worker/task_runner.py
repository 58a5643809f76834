"""The worker's side of a task: run the model step it asks for, with this worker's models."""

from __future__ import annotations

import io
import logging
import time
import traceback

import numpy as np

from facerec.compute.models import photo
from facerec.compute.models.detector import Detector
from facerec.compute.models.registry import FaceEmbedder
from facerec.compute.tasks import (
    DETECT_MTCNN,
    EMBED_PREFIX,
    DetectOutput,
    EmbedOutput,
    FaceCrop,
    Task,
    TaskError,
    TaskKind,
    TaskOutput,
)

log = logging.getLogger(__name__)


class TaskRunner:
    """Runs DETECT with `detector` and EMBED with `embedder`; either may be absent.

    Not thread-safe because MTCNN is not: one runner per worker thread (they may share
    one embedder).
    """

    def __init__(self, detector: Detector | None, embedder: FaceEmbedder | None) -> None:
        self.detector = detector
        self.embedder = embedder

    @property
    def capabilities(self) -> tuple[str, ...]:
        caps = []
        if self.detector is not None:
            caps.append(DETECT_MTCNN)
        if self.embedder is not None:
            caps.append(EMBED_PREFIX + self.embedder.model_id)
        return tuple(caps)

    def run(self, task: Task) -> TaskOutput:
        """The task's output; raises TaskError (permanent when the input is at fault)."""
        if task.kind is TaskKind.DETECT and self.detector is not None:
            return self._detect(self.detector, task)
        if task.kind is TaskKind.EMBED and self.embedder is not None:
            return self._embed(self.embedder, task)
        raise TaskError("NOT_CAPABLE", f"this worker cannot run {task.kind.name} tasks")

    def answer(self, task: Task) -> TaskOutput | TaskError:
        """The output, or the error to report; a crash is a WORKER_ERROR (retried)."""
        try:
            return self.run(task)
        except TaskError as exc:
            return exc
        except Exception as exc:
            log.error("task %s crashed:\n%s", task.id, traceback.format_exc())
            return TaskError("WORKER_ERROR", f"{type(exc).__name__}: {exc}")

    def _detect(self, detector: Detector, task: Task) -> DetectOutput:
        start = time.perf_counter()
        try:
            img = photo.load_rgb(io.BytesIO(task.photo))
        except Exception as exc:
            raise TaskError(
                "PHOTO_UNREADABLE", f"the photo cannot be decoded: {exc}", permanent=True
            ) from None
        decoded = time.perf_counter()
        found = [
            d
            for d in detector.detect(img, task.min_face_size)
            if d.score >= task.min_detection_score
        ]
        detected = time.perf_counter()
        crops = {kind: detector.crop_images(img, found, kind) for kind in task.crop_kinds}
        seconds = {
            "decode": decoded - start,
            "detect": detected - decoded,
            "crop": time.perf_counter() - detected,
        }
        return DetectOutput(
            tuple(
                FaceCrop(d.box, d.score, d.landmarks, {k: c[i] for k, c in crops.items()})
                for i, d in enumerate(found)
            ),
            seconds,
        )

    def _embed(self, embedder: FaceEmbedder, task: Task) -> EmbedOutput:
        if task.model_id != embedder.model_id:
            raise TaskError(
                "MODEL_MISMATCH",
                f"asked for {task.model_id!r} but this worker serves {embedder.model_id!r}",
                permanent=True,
            )
        size = embedder.spec.crop.size
        if task.crops.shape[1:] != (size, size, 3):
            raise TaskError(
                "BAD_CROPS",
                f"{embedder.model_id} needs crops of (n, {size}, {size}, 3), not"
                f" {task.crops.shape}",
                True,
            )
        start = time.perf_counter()
        vectors = embedder.embed_crops(task.crops)
        seconds = {"embed": time.perf_counter() - start}
        return EmbedOutput(np.asarray(vectors, dtype=np.float32), seconds)
