"""A worker's session with the dispatcher: what it offered, the leases it holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from facerec.compute import metrics
from facerec.compute.dispatch.embed_batcher import MAX_BATCH, EmbedItem
from facerec.compute.errors import FailedPrecondition, InvalidArgument
from facerec.compute.tasks import (
    DETECT_MTCNN,
    EMBED_PREFIX,
    STAGES,
    Drained,
    Task,
    TaskCancel,
    TaskError,
    WorkerHello,
)

MAX_TASKS = 64

Deliver = Callable[[Task | TaskCancel | Drained], None]


@dataclass
class Session:
    """One connected worker. `deliver` must not block: it is called with the lock held."""

    id: str
    hello: WorkerHello
    deliver: Deliver
    detects: bool
    embeds: bool
    max_batch: int
    connected_at: float = field(default_factory=time.time)
    held: dict[str, Lease] = field(default_factory=dict)
    done: int = 0
    failed: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    crops_embedded: int = 0
    closed: bool = False
    silent: bool = False  # let a lease expire; gets nothing new until it speaks again
    draining: bool = False  # stopping: finishes what it holds, gets nothing new

    def add_seconds(self, seconds: dict[str, float]) -> None:
        """Adds a result's reported stage times to the totals (unknown or odd values ignored)."""
        for stage, value in seconds.items():
            if stage in STAGES and 0.0 <= value < 1e6:
                self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + value
                metrics.STAGE_SECONDS.labels(stage).observe(value)

    @property
    def free(self) -> int:
        if self.closed or self.silent or self.draining:
            return 0
        return self.hello.max_tasks - len(self.held)


@dataclass
class Lease:
    task: Task
    session: Session
    expires: float
    jobs: dict[str, int]  # job id -> attempt
    items: list[EmbedItem] = field(default_factory=list)
    answered: bool = False  # its answer is being stored; the slot frees after that


def check_hello(hello: WorkerHello, model_id: str) -> tuple[bool, bool]:
    """(detects, embeds) of a hello the coordinator can serve; else InvalidArgument or
    FailedPrecondition saying what to change."""
    if not 1 <= len(hello.worker_id) <= 128:
        raise InvalidArgument("worker_id must be 1-128 characters", reason="BAD_HELLO")
    if not 1 <= hello.max_tasks <= MAX_TASKS:
        raise InvalidArgument(f"max_tasks must be 1-{MAX_TASKS}", reason="BAD_HELLO")
    if not 0 <= hello.max_batch_size <= MAX_BATCH:
        raise InvalidArgument(f"max_batch_size must be 0-{MAX_BATCH}", reason="BAD_HELLO")
    if not hello.capabilities:
        raise InvalidArgument(
            f"a worker must offer {DETECT_MTCNN} or {EMBED_PREFIX}<model id>",
            reason="BAD_HELLO",
        )
    detects = embeds = False
    for cap in hello.capabilities:
        if cap == DETECT_MTCNN:
            detects = True
        elif cap.startswith(EMBED_PREFIX):
            offered = cap[len(EMBED_PREFIX) :]
            if offered != model_id:
                raise FailedPrecondition(
                    f"this coordinator serves embed:{model_id}, but the worker offers"
                    f" embed:{offered}; start the worker with the coordinator's weights",
                    reason="MODEL_MISMATCH",
                )
            embeds = True
        else:
            raise InvalidArgument(
                f"unknown capability {cap!r}; use {DETECT_MTCNN} or {EMBED_PREFIX}{model_id}",
                reason="BAD_HELLO",
            )
    return detects, embeds


def load(session: Session) -> float:
    return len(session.held) / session.hello.max_tasks


def checked_vectors(vectors: np.ndarray, n: int, dim: int) -> np.ndarray:
    """`n` embeddings of `dim` floats, L2-normalised; TaskError BAD_RESULT otherwise."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape != (n, dim):
        raise TaskError("BAD_RESULT", f"expected {n} embeddings of {dim}, got {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if not np.all(np.isfinite(norms)) or np.any(norms < 1e-6):
        raise TaskError("BAD_RESULT", "embeddings must be finite and non-zero")
    return vectors / norms
