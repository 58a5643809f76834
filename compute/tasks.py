"""Model tasks sent to workers and what workers send back: plain dataclasses, no gRPC."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

CROP_SIZE = 160
DETECT_MTCNN = "detect:mtcnn"
EMBED_PREFIX = "embed:"


class CropKind(enum.IntEnum):
    """The face crops DETECT can cut; numbers equal those of `facerec.v1.CropKind`."""

    BOX_160 = 1  # the face box, no margin, resized to 160x160 (FaceNet)
    ARCFACE_112 = 2  # aligned from the full photo onto the ArcFace 5-point template (SFace)

    @property
    def size(self) -> int:
        """Width and height in pixels."""
        return 160 if self is CropKind.BOX_160 else 112


class TaskKind(enum.IntEnum):
    """Numbers equal those of `facerec.v1.TaskKind`."""

    DETECT = 1
    EMBED = 2


@dataclass(frozen=True)
class Task:
    """One leased unit of model work. DETECT has `photo` and the `crop_kinds` to cut for each
    face; EMBED has `crops` (n, size, size, 3) uint8 RGB of the one kind in `crop_kinds`,
    the kind `model_id` needs."""

    id: str
    attempt: int
    kind: TaskKind
    lease_expires_at: float
    photo: bytes = b""
    min_detection_score: float = 0.0
    min_face_size: int = 20
    crop_kinds: tuple[CropKind, ...] = (CropKind.BOX_160,)
    model_id: str = ""
    crops: np.ndarray = field(default_factory=lambda: np.zeros((0, 160, 160, 3), np.uint8))


@dataclass(frozen=True)
class FaceCrop:
    """A detected face with its RGB uint8 crops, one per crop kind the task asked for."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...]
    crops: dict[CropKind, np.ndarray]


@dataclass(frozen=True)
class DetectOutput:
    faces: tuple[FaceCrop, ...]
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: decode, detect, crop


@dataclass(frozen=True)
class EmbedOutput:
    vectors: np.ndarray  # (n, model dim) float32
    seconds: dict[str, float] = field(default_factory=dict)  # {"embed": ...}


# The stages a worker reports its time in (TaskResult.stage_seconds).
STAGES = ("decode", "detect", "crop", "embed")


TaskOutput = DetectOutput | EmbedOutput


@dataclass(frozen=True)
class TaskCancel:
    """Tells a worker that the task's jobs were withdrawn."""

    task_id: str


@dataclass(frozen=True)
class Drained:
    """Tells a draining worker's session that every task it held is answered: it may end."""


class TaskError(Exception):
    """A task that could not be done; `permanent` when the input is at fault."""

    def __init__(self, code: str, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class WorkerHello:
    """What a worker says when it connects."""

    worker_id: str
    capabilities: tuple[str, ...]
    max_tasks: int = 1
    max_batch_size: int = 0
    runtime: str = ""
    peer: str = "in-process"


class TaskSource(Protocol):
    """What an in-process worker sees of the dispatcher: the same conversation a remote
    worker has over `WorkerService.Work`, as calls. `session` is an opaque token."""

    def connect(self, hello: WorkerHello, deliver: Callable[[Any], None]) -> Any:
        """Registers the worker; `deliver` receives each Task, TaskCancel and Drained."""
        ...

    def disconnect(self, session: Any) -> None:
        """The worker is gone: tasks it still holds go back to the queue."""
        ...

    def heartbeat(self, session: Any) -> None:
        """Extends every lease the worker holds."""
        ...

    def complete(self, session: Any, task_id: str, attempt: int, output: TaskOutput) -> bool:
        """A task's result; False when that attempt's lease is no longer held."""
        ...

    def fail(self, session: Any, task_id: str, attempt: int, error: TaskError) -> bool:
        """A task the worker could not do; False when the lease is no longer held."""
        ...


def standardise(crops: np.ndarray) -> np.ndarray:
    """uint8 (n, 160, 160, 3) crops as FaceNet's float32 input (n, 3, 160, 160)."""
    return ((crops.astype(np.float32) - 127.5) / 128.0).transpose(0, 3, 1, 2).copy()
