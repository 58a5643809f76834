"""The coordinator's half of a job: storing what workers found, matching, enrolling, alerts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from facerec.compute import metrics
from facerec.compute.dispatch.events import JobEvents
from facerec.compute.dispatch.matcher import Matcher
from facerec.compute.domain import Alert, Face, Job, JobError, JobEventType, JobKind
from facerec.compute.errors import NotFound
from facerec.compute.models import photo
from facerec.compute.models.catalog import ModelSpec
from facerec.compute.store.interfaces import GalleryStore, JobStore
from facerec.compute.store.spool import PhotoSpool
from facerec.compute.tasks import FaceCrop, TaskError

log = logging.getLogger(__name__)


def _face(f: FaceCrop) -> Face:
    return Face(box=f.box, score=f.score, landmarks=f.landmarks)


def _area(f: FaceCrop) -> float:
    return (f.box[2] - f.box[0]) * (f.box[3] - f.box[1])


@dataclass
class Pipeline:
    """Every write is fenced by the job's attempt: a stale worker's output changes nothing."""

    jobs: JobStore
    gallery: GalleryStore
    matcher: Matcher
    spool: PhotoSpool
    events: JobEvents
    model: ModelSpec
    max_attempts: int
    retain_photos: bool
    on_alerts: Callable[[list[Alert]], None]
    keep_face_crops: bool = True

    @property
    def model_id(self) -> str:
        return self.model.id

    def detected(self, job: Job, faces: tuple[FaceCrop, ...]) -> tuple[FaceCrop, ...] | None:
        """Stores a DETECT result; returns the faces to embed, or None when the job is over
        (no face, or the attempt lost its lease)."""
        if job.kind is JobKind.ENROLL:
            if not faces:
                self.failed(
                    job,
                    TaskError(
                        "NO_FACE", "no face was found in the photo, so nothing was enrolled", True
                    ),
                )
                return None
            return (max(faces, key=_area),)
        recorded = self.jobs.record_faces(
            job.id, job.attempt, tuple(_face(f) for f in faces), self.model_id
        )
        if recorded is None:
            return None
        self.events.publish(recorded, JobEventType.FACES_DETECTED)
        if not faces:
            self.finish(job, (), np.zeros((0, self.model.dim), np.float32), 0)
            return None
        return faces

    def stored_crops(self, job: Job) -> tuple[tuple[int, ...], list[np.ndarray]]:
        """A REEMBED job's faces that still exist, and their stored crops for this model."""
        stored = self.gallery.face_crops(list(job.spec.face_ids), self.model.crop)
        ids = tuple(i for i in job.spec.face_ids if i in stored)
        return ids, [photo.crop_from_png(stored[i]) for i in ids]

    def finish(
        self,
        job: Job,
        faces: tuple[FaceCrop, ...],
        vectors: np.ndarray,
        found: int,
        face_ids: tuple[int, ...] = (),
    ) -> None:
        """Matches (enrols, re-embeds) the embedded faces and ends the job SUCCEEDED."""
        started = time.perf_counter()
        if job.kind is JobKind.REEMBED:
            done = self._reembed(job, face_ids, vectors)
        elif job.kind is JobKind.ENROLL:
            done = self._enroll(job, faces[0], vectors[0], found)
        else:
            done = self._recognize(job, faces, vectors)
        metrics.STAGE_SECONDS.labels("match").observe(time.perf_counter() - started)
        if done is not None:
            log.info("job %s %s with %d faces", job.id, done.state.name, len(done.faces))
            self.settled(done)

    def failed(self, job: Job, error: TaskError) -> Job | None:
        """Ends the attempt: FAILED for good when permanent, else back to the queue (or
        FAILED once out of attempts). Returns the job as it now is, None when stale."""
        err = JobError(error.code, error.message)
        if error.permanent:
            done = self.jobs.fail(job.id, job.attempt, err)
        else:
            done = self.jobs.retry(job.id, job.attempt, err, self.max_attempts)
        if done is not None:
            log.info(
                "job %s attempt %d: %s: %s -> %s",
                job.id,
                job.attempt,
                error.code,
                error.message,
                done.state.name,
            )
            self.settled(done)
        return done

    def settled(self, job: Job) -> None:
        """Frees a finished job's photo, then tells watchers: whoever sees a job end can
        count on its photo being gone."""
        if job.state.terminal:
            kind = job.kind.name.lower()
            reason = job.error.code if job.error else ""
            metrics.JOBS_FINISHED.labels(kind, job.state.name.lower(), reason).inc()
            metrics.JOB_SECONDS.labels(kind).observe(max(0.0, job.updated_at - job.created_at))
        self.release_photo(job)
        self.events.publish(job)

    def release_photo(self, job: Job) -> None:
        """Deletes a finished job's photo unless retention is on or another job needs it."""
        if self.retain_photos or not job.state.terminal or not job.image.sha256:
            return
        with self.spool.lock:
            if not self.jobs.photo_in_use(job.image.sha256):
                self.spool.delete(job.image.sha256)

    def _recognize(self, job: Job, crops: tuple[FaceCrop, ...], vectors: np.ndarray) -> Job | None:
        spec = job.spec
        matches = self.matcher.match(
            vectors, self.model_id, spec.collection, spec.top_k, spec.min_similarity
        )
        faces = tuple(
            Face(f.box, f.score, f.landmarks, m) for f, m in zip(crops, matches, strict=True)
        )
        drafts = self.matcher.alerts(vectors, self.model_id, [f.box for f in faces])
        done = self.jobs.succeed(job.id, job.attempt, faces, self.model_id, drafts)
        if done is None:
            return None
        finished, recorded = done
        if recorded:
            self.on_alerts(recorded)
        return finished

    def _enroll(self, job: Job, crop: FaceCrop, vector: np.ndarray, found: int) -> Job | None:
        crops = (
            {kind: photo.crop_to_png(pixels) for kind, pixels in crop.crops.items()}
            if self.keep_face_crops
            else {}
        )
        try:
            done = self.jobs.succeed_enrollment(
                job.id, job.attempt, _face(crop), self.model_id, vector, found, crops
            )
        except NotFound as exc:
            self.failed(job, TaskError("IDENTITY_DELETED", exc.message, True))
            return None
        if done is None:
            return None
        finished, added = done
        self.matcher.added(added, np.asarray(vector))
        return finished

    def _reembed(self, job: Job, face_ids: tuple[int, ...], vectors: np.ndarray) -> Job | None:
        done = self.jobs.succeed_reembedding(job.id, job.attempt, face_ids, self.model_id, vectors)
        if done is None:
            return None
        finished, moved = done
        self.matcher.removed([old for old, _ in moved])
        row = {face_id: i for i, face_id in enumerate(face_ids)}
        for _, new in moved:
            self.matcher.added(new, vectors[row[new.id]])
        log.info("job %s re-embedded %d faces with %s", job.id, len(moved), self.model_id)
        return finished
