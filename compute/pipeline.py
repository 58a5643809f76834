"""Processing one leased job: decode, detect, embed, then match or enrol."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from facerec.compute import photo
from facerec.compute.alert_store import AlertStore
from facerec.compute.detector import Detection, Detector
from facerec.compute.domain import Alert, Enrollment, Face, Job, JobError, JobEventType, JobKind
from facerec.compute.embedder import Embedder
from facerec.compute.errors import NotFound
from facerec.compute.events import JobEvents
from facerec.compute.gallery_store import GalleryStore
from facerec.compute.job_store import JobStore
from facerec.compute.matcher import Matcher
from facerec.compute.spool import PhotoSpool

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The photo, not the worker, is at fault: retrying cannot help."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = JobError(code, message)


class LeaseLost(Exception):
    """The job was cancelled or re-leased while this worker held it."""


def _face(d: Detection) -> Face:
    return Face(box=d.box, score=d.score, landmarks=d.landmarks)


def _area(d: Detection) -> float:
    return (d.box[2] - d.box[0]) * (d.box[3] - d.box[1])


@dataclass
class Pipeline:
    """Runs a job with one worker's models; results are written fenced by the attempt."""

    jobs: JobStore
    gallery: GalleryStore
    matcher: Matcher
    spool: PhotoSpool
    events: JobEvents
    detector: Detector
    embedder: Embedder
    lease_seconds: float
    on_alerts: Callable[[list[Alert]], None]

    def run(self, job: Job) -> Job | None:
        """Processes `job`; returns the finished job, or None when the lease was lost.

        Raises PermanentFailure for bad photos; any other exception means "retry".
        """
        path = self.spool.path(job.image.sha256)
        if not path.exists():
            raise PermanentFailure("PHOTO_MISSING", "the photo is no longer in the spool")
        try:
            img = photo.load_rgb(path)
        except Exception as exc:
            raise PermanentFailure(
                "PHOTO_UNREADABLE", f"the photo cannot be decoded: {exc}"
            ) from None
        spec = job.spec
        found = [d for d in self.detector.detect(img) if d.score >= spec.min_detection_score]
        model_id = self.embedder.model_id
        if job.kind is JobKind.ENROLL:
            return self._enroll(job, img, found, model_id)
        faces = tuple(_face(d) for d in found)
        detected = self.jobs.record_faces(job.id, job.attempt, faces, model_id)
        if detected is None:
            raise LeaseLost(job.id)
        self.events.publish(detected, JobEventType.FACES_DETECTED)
        vectors = self.embedder.embed(self.detector.crops(img, found))
        matches = self.matcher.match(
            vectors, model_id, spec.collection, spec.top_k, spec.min_similarity
        )
        faces = tuple(
            Face(f.box, f.score, f.landmarks, m) for f, m in zip(faces, matches, strict=True)
        )
        drafts = self.matcher.alerts(vectors, model_id, [f.box for f in faces])
        recorded: list[Alert] = []

        def record_alerts(conn: sqlite3.Connection) -> None:
            recorded.extend(AlertStore.record(conn, job.id, drafts))

        done = self.jobs.succeed(
            job.id, job.attempt, faces, model_id, before_commit=record_alerts if drafts else None
        )
        if done is not None and recorded:
            self.on_alerts(recorded)
        return done

    def _enroll(self, job: Job, img, found: list[Detection], model_id: str) -> Job | None:
        if not found:
            raise PermanentFailure(
                "NO_FACE", "no face was found in the photo, so nothing was enrolled"
            )
        largest = max(found, key=_area)
        vector = self.embedder.embed(self.detector.crops(img, [largest]))[0]
        added = []

        def enroll(conn: sqlite3.Connection) -> Enrollment:
            face = self.gallery.add_face(
                conn, job.spec.identity_id, model_id, vector, source_job_id=job.id
            )
            added.append(face)
            return Enrollment(job.spec.identity_id, face.id, len(found))

        try:
            done = self.jobs.succeed(job.id, job.attempt, (_face(largest),), model_id, enroll)
        except NotFound as exc:
            raise PermanentFailure("IDENTITY_DELETED", exc.message) from None
        if done is not None and added:
            self.matcher.added(added[0], np.asarray(vector))
        return done
