"""In-process workers: threads that lease jobs from the store and run the pipeline."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import traceback
from collections.abc import Callable

import torch

from facerec.compute.config import ComputeConfig
from facerec.compute.detector import Detector
from facerec.compute.domain import Alert, Job, JobError
from facerec.compute.embedder import Embedder
from facerec.compute.events import JobEvents
from facerec.compute.gallery_store import GalleryStore
from facerec.compute.job_store import JobStore
from facerec.compute.matcher import Matcher
from facerec.compute.pipeline import LeaseLost, PermanentFailure, Pipeline
from facerec.compute.spool import PhotoSpool

log = logging.getLogger(__name__)

LOCAL_OWNER_PREFIX = "local/"


class WorkerPool:
    """`workers` threads sharing one embedder; each has its own detector."""

    def __init__(
        self,
        cfg: ComputeConfig,
        jobs: JobStore,
        gallery: GalleryStore,
        matcher: Matcher,
        spool: PhotoSpool,
        events: JobEvents,
        embedder: Embedder,
        on_alerts: Callable[[list[Alert]], None],
    ) -> None:
        self.cfg = cfg
        self.on_alerts = on_alerts
        self.jobs = jobs
        self.gallery = gallery
        self.matcher = matcher
        self.spool = spool
        self.events = events
        self.embedder = embedder
        self._wake = threading.Condition()
        self._pending = False
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ready = threading.Barrier(cfg.workers + 1)
        self.busy = 0

    def start(self) -> None:
        if self.cfg.torch_threads > 0:
            torch.set_num_threads(self.cfg.torch_threads)
        for n in range(self.cfg.workers):
            t = threading.Thread(target=self._run, args=(n,), name=f"worker-{n}", daemon=True)
            t.start()
            self._threads.append(t)
        self._ready.wait()

    def wake(self) -> None:
        """Tells idle workers that a job was queued."""
        with self._wake:
            self._pending = True
            self._wake.notify_all()

    def stop(self, timeout: float) -> None:
        """Stops taking jobs and waits up to `timeout` for running ones to finish."""
        self._stopping.set()
        self.wake()
        for t in self._threads:
            t.join(timeout)

    def _run(self, n: int) -> None:
        owner = f"{LOCAL_OWNER_PREFIX}{os.getpid()}/{n}"
        if self.cfg.worker_nice > 0:
            # Linux applies niceness per thread; torch's compute threads started by this
            # thread inherit it.
            with contextlib.suppress(OSError, AttributeError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.cfg.worker_nice)
        pipeline = Pipeline(
            self.jobs,
            self.gallery,
            self.matcher,
            self.spool,
            self.events,
            Detector(self.cfg.device),
            self.embedder,
            self.cfg.lease_seconds,
            self.on_alerts,
        )
        self._ready.wait()
        while not self._stopping.is_set():
            try:
                job = self.jobs.claim(owner, self.cfg.lease_seconds)
            except Exception:
                log.exception("claiming a job failed")
                job = None
            if job is None:
                with self._wake:
                    if not self._pending:
                        self._wake.wait(timeout=1.0)
                    self._pending = False
                continue
            self.events.publish(job)
            self.busy += 1
            try:
                self._process(pipeline, job)
            finally:
                self.busy -= 1

    def _process(self, pipeline: Pipeline, job: Job) -> None:
        log.info("job %s attempt %d started", job.id, job.attempt)
        try:
            done = pipeline.run(job)
        except LeaseLost:
            done = None
        except PermanentFailure as exc:
            done = self.jobs.fail(job.id, job.attempt, exc.error)
        except Exception as exc:
            log.error("job %s attempt %d crashed:\n%s", job.id, job.attempt, traceback.format_exc())
            done = self.jobs.retry(
                job.id,
                job.attempt,
                JobError("WORKER_ERROR", f"{type(exc).__name__}: {exc}"),
                self.cfg.max_attempts,
            )
            if done is not None and not done.state.terminal:
                self.events.publish(done)
                self.wake()
                return
        if done is None:
            done = self.jobs.get(job.id)  # cancelled or re-leased: the photo may be free now
        else:
            self.events.publish(done)
            log.info("job %s %s with %d faces", job.id, done.state.name, len(done.faces))
        self.release_photo(done)

    def release_photo(self, job: Job) -> None:
        """Deletes a finished job's photo unless retention is on or another job needs it."""
        if self.cfg.retain_photos or not job.state.terminal:
            return
        with self.spool.lock:
            if not self.jobs.photo_in_use(job.image.sha256):
                self.spool.delete(job.image.sha256)
