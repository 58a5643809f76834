"""Accepting photos: spec checks, photo checks, spooling, and queueing the job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from facerec.compute import domain as d
from facerec.compute import metrics
from facerec.compute.config import ComputeConfig
from facerec.compute.dispatch.events import JobEvents
from facerec.compute.dispatch.matcher import Matcher
from facerec.compute.errors import InvalidArgument
from facerec.compute.models import photo
from facerec.compute.store.interfaces import GalleryStore, JobStore
from facerec.compute.store.spool import PhotoSpool, Upload

log = logging.getLogger(__name__)

# Checking a photo and queueing its job run on a pool of their own rather than asyncio's
# default one (six threads on two cores). The inserts take turns on one lock anyway, and each
# thread that runs Python contends with the event loop for the interpreter lock: with two, a
# burst of uploads is answered sooner (docs/performance.md). Not one, so that a slow photo (a
# large TIFF to decode) does not hold up the others.
ACCEPT_THREADS = 2


class Submitter:
    """Turns a validated spec and a received upload into a queued job (blocking; run off-loop,
    on `executor`)."""

    def __init__(
        self,
        cfg: ComputeConfig,
        jobs: JobStore,
        gallery: GalleryStore,
        matcher: Matcher,
        spool: PhotoSpool,
        events: JobEvents,
        model_id: str,
        on_queued: Callable[[], None],
    ) -> None:
        self.cfg = cfg
        self.jobs = jobs
        self.gallery = gallery
        self.matcher = matcher
        self.spool = spool
        self.events = events
        self.model_id = model_id
        self.on_queued = on_queued
        self.executor = ThreadPoolExecutor(ACCEPT_THREADS, thread_name_prefix="facerec-accept")

    def close(self) -> None:
        """Waits for the uploads being accepted, then stops the pool."""
        self.executor.shutdown(wait=True)

    def validate(self, spec: d.JobSpec) -> d.JobSpec:
        """Checks ranges and that the collection exists and suits the model."""
        self.check_ranges(spec)
        if spec.collection:
            self.gallery.get_collection(spec.collection)
            self.matcher.check_model(spec.collection, self.model_id)
        return spec

    def needs_store(self, spec: d.JobSpec) -> bool:
        """Whether accepting `spec` reads the database (collection checks, idempotency)."""
        return bool(spec.collection or spec.request_id)

    def prepare(self, spec: d.JobSpec) -> tuple[d.JobSpec, d.Job | None]:
        """Validates a spec and finds the job already submitted under its request_id."""
        return self.validate(spec), self.existing(spec)

    @staticmethod
    def check_ranges(spec: d.JobSpec) -> None:
        """The checks that need no database."""
        if not 1 <= spec.top_k <= d.MAX_TOP_K:
            raise InvalidArgument(f"top_k must be between 1 and {d.MAX_TOP_K} (got {spec.top_k})")
        if not -1.0 <= spec.min_similarity <= 1.0:
            raise InvalidArgument(
                f"min_similarity must be between -1 and 1 (got {spec.min_similarity:g})"
            )
        if not 0.0 <= spec.min_detection_score <= 1.0:
            raise InvalidArgument(
                f"min_detection_score must be between 0 and 1 (got {spec.min_detection_score:g})"
            )
        low, high = d.MIN_FACE_SIZE_RANGE
        if spec.min_face_size and not low <= spec.min_face_size <= high:
            raise InvalidArgument(
                f"min_face_size must be between {low} and {high} pixels (got {spec.min_face_size})"
            )
        if not 0 <= spec.priority <= d.MAX_PRIORITY:
            raise InvalidArgument(
                f"priority must be between 0 and {d.MAX_PRIORITY} (got {spec.priority})"
            )
        if len(spec.request_id) > d.MAX_REQUEST_ID:
            raise InvalidArgument(f"request_id is longer than {d.MAX_REQUEST_ID} characters")

    def enrollment_spec(self, identity_id: str, priority: int, request_id: str) -> d.JobSpec:
        identity = self.gallery.get_identity(identity_id)
        spec = d.JobSpec(
            collection=identity.collection,
            top_k=1,
            priority=priority,
            request_id=request_id,
            identity_id=identity.id,
        )
        return self.validate(spec)

    def existing(self, spec: d.JobSpec) -> d.Job | None:
        """The job already submitted under this spec's request_id, if any."""
        return self.jobs.find_by_request_id(spec) if spec.request_id else None

    def check(self, upload: Upload, spec: d.JobSpec) -> d.ImageInfo:
        """Closes and validates an upload for `spec`; returns what it is, content hash
        included."""
        sha = upload.finish()
        limits = photo.PhotoLimits(
            max_pixels=self.cfg.max_photo_pixels,
            max_detection_cost=self.cfg.max_detection_cost,
            min_face_size=spec.min_face_size or self.cfg.min_face_size,
        )
        header = photo.check(upload.path, upload.size, limits)
        return d.ImageInfo(header.width, header.height, header.format, upload.size, sha)

    def queue(self, kind: d.JobKind, spec: d.JobSpec, upload: Upload, image: d.ImageInfo) -> d.Job:
        """Spools a checked upload and queues its job; returns the job (or the earlier one)."""
        with self.spool.lock:
            self.spool.keep(upload, image.sha256)
            try:
                job, created = self.jobs.create(kind, spec, image, self.cfg.max_queued_jobs)
            except BaseException:
                if not self.jobs.photo_in_use(image.sha256):
                    self.spool.delete(image.sha256)
                raise
        if created:
            metrics.JOBS_SUBMITTED.labels(kind.name.lower()).inc()
            log.info("job %s queued (%s, %dx%d)", job.id, image.format, image.width, image.height)
            self.events.publish(job)
            self.on_queued()
        return job

    def submit(self, kind: d.JobKind, spec: d.JobSpec, upload: Upload) -> d.Job:
        """Checks an upload and queues it."""
        return self.queue(kind, spec, upload, self.check(upload, spec))
