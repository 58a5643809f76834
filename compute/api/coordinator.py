"""The compute side's parts wired together: stores, spool, index, dispatcher, events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from facerec.compute import metrics
from facerec.compute.api import convert
from facerec.compute.config import ComputeConfig
from facerec.compute.dispatch.dispatcher import Dispatcher
from facerec.compute.dispatch.egress import EgressPolicy, parse_networks
from facerec.compute.dispatch.events import AlertEvents, JobEvents
from facerec.compute.dispatch.matcher import Matcher
from facerec.compute.dispatch.pipeline import Pipeline
from facerec.compute.dispatch.reembedder import Reembedder
from facerec.compute.dispatch.submitter import Submitter
from facerec.compute.dispatch.webhooks import WebhookDispatcher
from facerec.compute.domain import (
    MIN_FACE_SIZE_RANGE,
    Alert,
    GalleryFace,
    Job,
    JobEvent,
    JobEventType,
    JobState,
)
from facerec.compute.models import catalog, registry
from facerec.compute.models.embedder import check_device, resolve_precision
from facerec.compute.store import sqlite
from facerec.compute.store.spool import PhotoSpool
from facerec.compute.worker.local_worker import LocalWorker
from facerec.index import GalleryIndex
from facerec.v1 import job_pb2

log = logging.getLogger(__name__)

_RECHECK_SECONDS = 5.0
_MAINTENANCE_SECONDS = 5.0


class Coordinator:
    """Owns the durable state and the in-process workers of one compute server."""

    def __init__(self, cfg: ComputeConfig, loop: asyncio.AbstractEventLoop) -> None:
        self.cfg = cfg
        low, high = MIN_FACE_SIZE_RANGE
        if not low <= cfg.min_face_size <= high:
            raise ValueError(
                f"--min-face-size must be {low}-{high} pixels (got {cfg.min_face_size})"
            )
        # Biometric data: readable by this user only.
        cfg.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        resolve_precision(cfg.precision, check_device(cfg.device))
        choice = registry.choose(cfg)
        self.model = choice.spec
        self.model_id = self.model.id
        self.model_path = choice.path
        stores = sqlite.open_stores(cfg.db_path)
        self.jobs = stores.jobs
        self.gallery = stores.gallery
        self.keys = stores.keys
        self.spool = PhotoSpool(cfg.spool_dir)
        self.index = GalleryIndex(cfg.index_dir, self.gallery)
        self.matcher = Matcher(self.gallery, self.index, self.model)
        self.events = JobEvents(loop)
        self.alert_events = AlertEvents(loop)
        self.alerts = stores.alerts
        self.egress = EgressPolicy(parse_networks(cfg.webhook_allow_networks))
        self.webhooks = WebhookDispatcher(
            self.alerts,
            cfg.webhook_max_attempts,
            cfg.webhook_backoff_seconds,
            cfg.webhook_timeout_seconds,
            self.egress,
        )
        self.untrained_models = frozenset(m.id for m in catalog.MODELS.values() if not m.trained)
        self.pipeline = Pipeline(
            self.jobs,
            self.gallery,
            self.matcher,
            self.spool,
            self.events,
            self.model,
            cfg.max_attempts,
            cfg.retain_photos,
            self._alerted,
            cfg.keep_face_crops,
        )
        self.dispatcher = Dispatcher(
            cfg, self.jobs, self.pipeline, lambda sha: self.spool.path(sha).read_bytes()
        )
        self.local_worker = (
            LocalWorker(
                cfg,
                self.dispatcher,
                registry.load(choice, cfg.device, cfg.model_threads, cfg.precision),
            )
            if cfg.local_worker and cfg.worker_processes == 0
            else None
        )
        self.submitter = Submitter(
            cfg,
            self.jobs,
            self.gallery,
            self.matcher,
            self.spool,
            self.events,
            self.model_id,
            self.dispatcher.wake,
        )
        self.reembedder = Reembedder(self.jobs, self.gallery, self.model, self.dispatcher.wake)
        self._maintenance: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Recovers from the previous run, loads the index and starts the workers (blocking)."""
        # Every running job belongs to a coordinator; this one is the only one, so running
        # jobs were interrupted when the previous run ended.
        orphans = self.jobs.expire_leases(
            self.cfg.max_attempts, owner_prefix="", max_interruptions=self.cfg.max_interruptions
        )
        if orphans:
            log.warning("requeued %d jobs interrupted by the previous run", len(orphans))
            metrics.INTERRUPTIONS.inc(len(orphans))
        for job in orphans:
            self.pipeline.release_photo(job)
        if not self.cfg.retain_photos:
            self.spool.prune(self.jobs.active_photos())
        self.index.load()
        self.reembedder.plan()
        self.webhooks.start()
        self.dispatcher.start()
        if self.local_worker is not None:
            self.local_worker.start()
        log.info(
            "coordinator ready: model %s, %d queued jobs",
            self.model_id,
            self.jobs.count(JobState.QUEUED),
        )

    def start_maintenance(self) -> None:
        self._maintenance = asyncio.get_running_loop().create_task(self._maintain())

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(_MAINTENANCE_SECONDS)
            try:
                expired = await asyncio.to_thread(self.jobs.expire_leases, self.cfg.max_attempts)
                for job in expired:
                    self.pipeline.settled(job)
                if expired:
                    self.dispatcher.wake()
                await asyncio.to_thread(self.index.snapshot)
            except Exception:
                log.exception("maintenance failed; will retry")

    def drain(self) -> None:
        """Stops claiming jobs and lets claimed ones finish (up to the grace period)."""
        self.dispatcher.drain(self.cfg.shutdown_grace_seconds)

    def stop(self) -> None:
        """Stops the local worker and webhooks and writes index snapshots."""
        if self._maintenance is not None:
            self._maintenance.cancel()
        if self.local_worker is not None:
            self.local_worker.stop(self.cfg.shutdown_grace_seconds)
        self.webhooks.stop()
        self.submitter.close()
        self.index.snapshot()

    def erased(self, faces: list[GalleryFace], identity_ids: set[str] | None = None) -> None:
        """After a deletion from the gallery: the faces leave the index; deleted people
        (`identity_ids`) are redacted from job results, enrolment records and alerts, and
        their retained enrolment photos deleted; neither the index snapshots nor the
        store's files keep a copy of any of it."""
        self.matcher.removed(faces)
        self.index.snapshot()
        if identity_ids:
            photos = self.jobs.redact(identity_ids)
            self.alerts.redact(identity_ids)
            with self.spool.lock:
                for sha in photos:
                    if not self.jobs.photo_in_use(sha):
                        self.spool.delete(sha)
        self.gallery.purge()

    def _alerted(self, alerts: list[Alert]) -> None:
        """Called by workers after alerts were recorded with their job's result."""
        self.alert_events.publish(alerts)
        self.webhooks.wake()

    async def watch_alerts(
        self, after_id: int, collection: str, identity_id: str, owner: str | None = None
    ) -> AsyncIterator[Alert]:
        """Every alert after the cursor, then live ones, each once and in id order.

        The log is the only source: a published alert just says "read the log again", so an
        alert recorded while another is being sent is never skipped nor sent twice.
        """
        queue = self.alert_events.subscribe()
        last = after_id
        try:
            while True:
                backlog = await asyncio.to_thread(
                    self.alerts.after, last, collection, identity_id, 500, owner
                )
                for alert in backlog:
                    last = alert.id
                    yield alert
                if len(backlog) == 500:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queue.get(), _RECHECK_SECONDS)
                while not queue.empty():
                    queue.get_nowait()
        finally:
            self.alert_events.unsubscribe(queue)

    def job_to_pb(self, job: Job) -> job_pb2.Job:
        return convert.job_to_pb(job, self.untrained_models, self.model_id)

    def cancel(self, job_id: str) -> Job:
        job = self.jobs.cancel(job_id)
        self.dispatcher.withdraw(job_id)
        self.pipeline.settled(job)
        return job

    async def watch(self, job_id: str) -> AsyncIterator[JobEvent]:
        """The job's snapshot, then each change, ending after the terminal state."""
        queue = self.events.subscribe(job_id)
        try:
            job = await asyncio.to_thread(self.jobs.get, job_id)
            yield JobEvent(JobEventType.SNAPSHOT, job)
            while not job.state.terminal:
                try:
                    event = await asyncio.wait_for(queue.get(), _RECHECK_SECONDS)
                except TimeoutError:
                    # Belt and braces: a change published by no one still reaches watchers.
                    event = JobEvent(
                        JobEventType.STATE_CHANGED, await asyncio.to_thread(self.jobs.get, job_id)
                    )
                if event.job.version <= job.version:
                    continue
                job = event.job
                yield event
        finally:
            self.events.unsubscribe(job_id, queue)
