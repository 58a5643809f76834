"""Handing model work to workers: task leases, heartbeats, retries and dynamic batching.

Jobs wait in the durable queue (SQLite) until a DETECT-capable worker has a free slot; only
then is a job claimed, so the in-memory state here is small and rebuilt from the job table
after a restart. A claimed job becomes one DETECT task, then one EMBED item per face; EMBED
items from any jobs are batched together, Triton-style: a batch goes out when it is full,
when its oldest item has waited `max_queue_delay_ms`, or at once when no DETECT task is in
flight (no more items are coming).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from facerec.compute import metrics
from facerec.compute.config import ComputeConfig
from facerec.compute.dispatch.active_job import ActiveJob
from facerec.compute.dispatch.embed_batcher import EmbedBatcher
from facerec.compute.dispatch.pipeline import Pipeline
from facerec.compute.dispatch.session_registry import SessionRegistry
from facerec.compute.dispatch.worker_session import (
    Lease,
    Session,
    checked_vectors,
    load,
)
from facerec.compute.domain import Job, JobKind
from facerec.compute.store.interfaces import JobStore
from facerec.compute.tasks import (
    CropKind,
    DetectOutput,
    EmbedOutput,
    Task,
    TaskCancel,
    TaskError,
    TaskKind,
    TaskOutput,
)

# Every crop kind, so that an enrolled face can be embedded again by any model later.
_ALL_CROPS = tuple(CropKind)

log = logging.getLogger(__name__)

OWNER_PREFIX = "coordinator/"


class Dispatcher(SessionRegistry):
    """Leases tasks to sessions (the in-process worker and remote ones alike)."""

    def __init__(
        self, cfg: ComputeConfig, jobs: JobStore, pipeline: Pipeline, read_photo: Callable
    ) -> None:
        self.cfg = cfg
        self.jobs = jobs
        self.pipeline = pipeline
        self.model = pipeline.model
        self.model_id = pipeline.model.id
        self.keep_face_crops = cfg.keep_face_crops
        self.read_photo = read_photo
        self.lease_seconds = cfg.lease_seconds
        self.batcher = EmbedBatcher(cfg.max_batch_size, cfg.max_queue_delay_ms)
        self.owner = f"{OWNER_PREFIX}{os.getpid()}"
        super().__init__()
        self._dirty = False
        self._maybe_queued = True
        self._draining = False
        self._stopping = False
        self._active: dict[str, ActiveJob] = {}
        self._backlog: deque[Job] = deque()  # claimed, waiting for a DETECT slot
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._renewed = 0.0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def drain(self, timeout: float) -> None:
        """Stops claiming jobs, lets claimed ones finish for up to `timeout`, then stops."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._draining = True
            while self._active and time.monotonic() < deadline:
                self._cond.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(5)

    def wake(self) -> None:
        """A job was queued (or requeued)."""
        with self._cond:
            self._maybe_queued = True
            self._notify()

    # -- answers from workers --------------------------------------------------------------

    def complete(self, session: Session, task_id: str, attempt: int, output: TaskOutput) -> bool:
        """A task's result; False (and nothing changes) when the lease is not held."""
        lease = self._take(session, task_id, attempt)
        if lease is None:
            return False
        try:
            self._store(lease, output)
        finally:
            self._release(lease)
        return True

    def _store(self, lease: Lease, output: TaskOutput) -> None:
        session = lease.session
        session.done += 1
        session.add_seconds(output.seconds)
        if isinstance(output, EmbedOutput):
            session.crops_embedded += len(lease.items)
            metrics.EMBED_BATCH.observe(len(lease.items))
        try:
            if lease.task.kind is TaskKind.DETECT:
                if not isinstance(output, DetectOutput):
                    raise TaskError("BAD_RESULT", "a DETECT task needs a detect result")
                self._detected(lease, output)
            else:
                if not isinstance(output, EmbedOutput):
                    raise TaskError("BAD_RESULT", "an EMBED task needs an embed result")
                vectors = checked_vectors(output.vectors, len(lease.items), self.model.dim)
                self._embedded(lease, vectors)
        except TaskError as exc:
            log.warning("worker %s: %s", session.hello.worker_id, exc.message)
            session.done -= 1
            session.failed += 1
            self._fail_lease(lease, exc)
        except Exception as exc:
            log.exception("storing the result of task %s failed", lease.task.id)
            self._fail_lease(lease, TaskError("COORDINATOR_ERROR", f"{type(exc).__name__}: {exc}"))

    def fail(self, session: Session, task_id: str, attempt: int, error: TaskError) -> bool:
        """A task the worker could not do; False when the lease is not held."""
        lease = self._take(session, task_id, attempt)
        if lease is None:
            return False
        session.failed += 1
        try:
            self._fail_lease(lease, error)
        finally:
            self._release(lease)
        return True

    def withdraw(self, job_id: str) -> None:
        """Forgets a cancelled job; tasks holding only its work are cancelled at the worker."""
        with self._cond:
            self._active.pop(job_id, None)
            self._backlog = deque(j for j in self._backlog if j.id != job_id)
            self.batcher.drop(job_id)
            for session in self._sessions.values():
                for lease in session.held.values():
                    if job_id in lease.jobs and not any(
                        j in self._active for j in lease.jobs if j != job_id
                    ):
                        session.deliver(TaskCancel(lease.task.id))
            self._notify()

    def _live(self, job_id: str, attempt: int) -> ActiveJob | None:
        active = self._active.get(job_id)
        return active if active is not None and active.job.attempt == attempt else None

    def _detected(self, lease: Lease, output: DetectOutput) -> None:
        if any(self.model.crop not in face.crops for face in output.faces):
            raise TaskError(
                "BAD_RESULT", f"a DETECT result lacks the {self.model.crop.name} crops asked for"
            )
        ((job_id, attempt),) = lease.jobs.items()
        with self._cond:
            active = self._live(job_id, attempt)
        if active is None:
            return
        to_embed = self.pipeline.detected(active.job, output.faces)
        with self._cond:
            if to_embed is None:
                self._forget_locked(job_id, attempt)
                return
            if self._live(job_id, attempt) is None:
                return
            active.faces = to_embed
            active.found = len(output.faces)
            self._embed(active, [face.crops[self.model.crop] for face in to_embed])

    def _embed(self, active: ActiveJob, crops: list[np.ndarray]) -> None:
        """Under the lock: queues a job's crops for EMBED batches."""
        active.pending = len(crops)
        active.vectors = np.zeros((len(crops), self.model.dim), np.float32)
        self.batcher.add(active.job.id, active.job.attempt, crops)
        self._notify()

    def _embedded(self, lease: Lease, vectors: np.ndarray) -> None:
        finished: list[ActiveJob] = []
        with self._cond:
            for item, vector in zip(lease.items, vectors, strict=True):
                active = self._live(item.job_id, item.attempt)
                if active is None or active.vectors is None:
                    continue
                active.vectors[item.face] = vector
                active.pending -= 1
                if active.pending == 0:
                    finished.append(active)
                    del self._active[item.job_id]
            self._notify()
        for active in finished:
            assert active.vectors is not None
            try:
                self.pipeline.finish(
                    active.job, active.faces, active.vectors, active.found, active.face_ids
                )
            except Exception as exc:
                log.exception("finishing job %s failed", active.job.id)
                self.pipeline.failed(
                    active.job, TaskError("COORDINATOR_ERROR", f"{type(exc).__name__}: {exc}")
                )
                self.wake()

    def _fail_lease(self, lease: Lease, error: TaskError) -> None:
        """Ends the attempt of every job still waiting on the lease."""
        metrics.TASK_FAILURES.labels(error.code).inc()
        failed: list[Job] = []
        with self._cond:
            for job_id, attempt in lease.jobs.items():
                active = self._live(job_id, attempt)
                if active is not None:
                    self._forget_locked(job_id, attempt)
                    failed.append(active.job)
        requeued = False
        for job in failed:
            done = self.pipeline.failed(job, error)
            requeued |= done is not None and not done.state.terminal
        if requeued:
            self.wake()

    def _forget(self, job_id: str, attempt: int) -> None:
        with self._cond:
            self._forget_locked(job_id, attempt)

    def _forget_locked(self, job_id: str, attempt: int) -> None:
        if self._live(job_id, attempt) is not None:
            del self._active[job_id]
        self.batcher.drop(job_id, attempt)
        self._notify()

    # -- the dispatcher thread -------------------------------------------------------------

    def _notify(self) -> None:
        self._dirty = True
        self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                if not self._dirty:
                    self._cond.wait(self._wait_seconds())
                self._dirty = False
            try:
                self._expire_leases()
                self._renew_job_leases()
                while self._dispatch_one():
                    pass
            except Exception:
                log.exception("dispatching failed; will retry")
                time.sleep(0.5)

    def _wait_seconds(self) -> float:
        wait = 1.0
        if self._free(embeds=True):
            wait = min(wait, self.batcher.due_in())
        return max(0.001, wait)

    def _detecting(self) -> bool:
        return bool(self._backlog) or any(
            lease.task.kind is TaskKind.DETECT
            for s in self._sessions.values()
            for lease in s.held.values()
        )

    def _dispatch_one(self) -> bool:
        """Leases one task when a worker is free and work is ready; False when none was."""
        with self._cond:
            embedders = self._free(embeds=True)
            if embedders and self.batcher.ready(more_coming=self._detecting()):
                self._lease_embed(min(embedders, key=load))
                return True
            detectors = self._free(detects=True)
            if not detectors:
                return False
            if self._backlog:
                session, job = min(detectors, key=load), self._backlog.popleft()
            elif self._draining or not self._maybe_queued:
                return False
            else:
                session, job = None, None
                self._maybe_queued = False
        if session is not None and job is not None:
            self._lease_detect(session, job)
            return True
        job = self.jobs.claim(self.owner, self.lease_seconds)
        if job is None:
            return False
        metrics.ATTEMPTS.labels(job.kind.name.lower()).inc()
        if job.kind is JobKind.REEMBED:
            return self._start_reembedding(job)
        with self._cond:
            self._maybe_queued = True
            self._active[job.id] = ActiveJob(job)
            self._backlog.append(job)
        self.pipeline.events.publish(job)
        return True

    def _start_reembedding(self, job: Job) -> bool:
        """A REEMBED job needs no DETECT: its crops come from the gallery."""
        face_ids, crops = self.pipeline.stored_crops(job)
        with self._cond:
            self._maybe_queued = True
            active = self._active[job.id] = ActiveJob(job, face_ids=face_ids)
            if crops:
                self._embed(active, crops)
        if not crops:
            self._forget(job.id, job.attempt)
            self.pipeline.finish(job, (), np.zeros((0, self.model.dim), np.float32), 0)
        return True

    def _lease(self, session: Session, task: Task, jobs: dict[str, int], items=()) -> None:
        lease = Lease(task, session, time.time() + self.lease_seconds, jobs, list(items))
        session.held[task.id] = lease
        session.deliver(task)

    def _lease_detect(self, session: Session, job: Job) -> None:
        try:
            photo = self.read_photo(job.image.sha256)
        except OSError as exc:
            self._forget(job.id, job.attempt)
            if isinstance(exc, FileNotFoundError):
                error = TaskError("PHOTO_MISSING", "the photo is no longer in the spool", True)
            else:
                error = TaskError("SPOOL_ERROR", f"the photo cannot be read: {exc}")
            done = self.pipeline.failed(job, error)
            if done is not None and not done.state.terminal:
                self.wake()
            return
        with self._cond:
            if self._live(job.id, job.attempt) is None:
                return  # cancelled meanwhile
            if session.free <= 0:
                self._backlog.appendleft(job)
                return
            task = Task(
                id=f"t{next(self._ids)}",
                attempt=job.attempt,
                kind=TaskKind.DETECT,
                lease_expires_at=time.time() + self.lease_seconds,
                photo=photo,
                min_detection_score=job.spec.min_detection_score,
                min_face_size=job.spec.min_face_size or self.cfg.min_face_size,
                crop_kinds=self._crop_kinds(job),
            )
            self._lease(session, task, {job.id: job.attempt})

    def _crop_kinds(self, job: Job) -> tuple[CropKind, ...]:
        """The served model's crop; for an enrolment, every kind (kept with the face)."""
        if job.kind is JobKind.ENROLL and self.keep_face_crops:
            return (self.model.crop, *(k for k in _ALL_CROPS if k is not self.model.crop))
        return (self.model.crop,)

    def _lease_embed(self, session: Session) -> None:
        items = self.batcher.take(session.max_batch)
        jobs = {i.job_id: i.attempt for i in items}
        task = Task(
            id=f"t{next(self._ids)}",
            attempt=1,
            kind=TaskKind.EMBED,
            lease_expires_at=time.time() + self.lease_seconds,
            crop_kinds=(self.model.crop,),
            model_id=self.model_id,
            crops=np.stack([i.crop for i in items]),
        )
        self._lease(session, task, jobs, items)

    def _renew_job_leases(self) -> None:
        """Keeps the job table's leases of claimed jobs current (they are this process's)."""
        if time.monotonic() - self._renewed < self.lease_seconds / 3:
            return
        self._renewed = time.monotonic()
        with self._cond:
            held = [(a.job.id, a.job.attempt) for a in self._active.values()]
        if held:
            self.jobs.renew(held, self.lease_seconds)
