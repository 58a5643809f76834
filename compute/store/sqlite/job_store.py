"""Durable jobs in SQLite: the queue, leases with fencing, and results."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from facerec.compute.domain import (
    Alert,
    AlertDraft,
    Enrollment,
    Face,
    GalleryFace,
    ImageInfo,
    Job,
    JobError,
    JobKind,
    JobSpec,
    JobState,
    new_job_id,
)
from facerec.compute.errors import FailedPrecondition, NotFound, ResourceExhausted
from facerec.compute.store import codec
from facerec.compute.store.sqlite.alert_store import insert_alerts
from facerec.compute.store.sqlite.database import Database
from facerec.compute.store.sqlite.gallery_store import insert_face, update_embeddings
from facerec.compute.store.sqlite.job_rows import ACTIVE, count_in, load, release, row_to_job
from facerec.compute.store.sqlite.redaction import redact_jobs
from facerec.compute.tasks import CropKind

log = logging.getLogger(__name__)


class SqliteJobStore:
    """The job queue. Every mutation of a running job is fenced by its attempt number."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, kind: JobKind, spec: JobSpec, image: ImageInfo, max_queued: int
    ) -> tuple[Job, bool]:
        """Queues a job; returns it and whether it is new (False: same request_id seen)."""
        now = time.time()
        with self.db.write() as conn:
            if spec.request_id:
                row = conn.execute(
                    "SELECT * FROM jobs WHERE request_id = ?", (spec.request_key,)
                ).fetchone()
                if row is not None:
                    return row_to_job(row), False
            queued = count_in(conn, JobState.QUEUED)
            if queued >= max_queued:
                raise ResourceExhausted(
                    f"the queue is full ({queued} jobs waiting); retry in a few seconds",
                    reason="QUEUE_FULL",
                )
            job = Job(
                id=new_job_id(),
                kind=kind,
                state=JobState.QUEUED,
                spec=spec,
                image=image,
                created_at=now,
                updated_at=now,
                enrollment=Enrollment(spec.identity_id) if kind is JobKind.ENROLL else None,
            )
            conn.execute(
                "INSERT INTO jobs (id, kind, state, request_id, spec, priority, photo_sha256,"
                " image, enrollment, created_at, updated_at, owner)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.id,
                    int(kind),
                    int(job.state),
                    spec.request_key or None,
                    codec.spec_to_json(spec),
                    spec.priority,
                    image.sha256,
                    codec.image_to_json(image),
                    codec.enrollment_to_json(job.enrollment),
                    now,
                    now,
                    spec.owner,
                ),
            )
        return job, True

    def find_by_request_id(self, spec: JobSpec) -> Job | None:
        row = (
            self.db.read()
            .execute("SELECT * FROM jobs WHERE request_id = ?", (spec.request_key,))
            .fetchone()
        )
        return None if row is None else row_to_job(row)

    def get(self, job_id: str) -> Job:
        row = self.db.read().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return row_to_job(row)

    def list(
        self,
        states: Iterable[JobState],
        page_size: int,
        after: tuple[float, str] | None,
        owner: str | None = None,
    ) -> tuple[list[Job], tuple[float, str] | None]:
        """A page of jobs, newest first, and the cursor of the next page (None: last page)."""
        sql = "SELECT * FROM jobs WHERE 1=1"
        args: list[object] = []
        if owner is not None:
            sql += " AND owner = ?"
            args.append(owner)
        states = [int(s) for s in states]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += states
        if after is not None:
            sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
            args += [after[0], after[0], after[1]]
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        args.append(page_size + 1)
        rows = self.db.read().execute(sql, args).fetchall()
        jobs = [row_to_job(r) for r in rows[:page_size]]
        cursor = (jobs[-1].created_at, jobs[-1].id) if len(rows) > page_size else None
        return jobs, cursor

    def count(self, state: JobState) -> int:
        return count_in(self.db.read(), state)

    def claim(self, owner: str, lease_seconds: float) -> Job | None:
        """Leases the next queued job (highest priority, then oldest) to `owner`."""
        now = time.time()
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT id FROM jobs WHERE state = ? ORDER BY priority DESC, created_at LIMIT 1",
                (int(JobState.QUEUED),),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET state = ?, attempt = attempt + 1, lease_owner = ?,"
                " lease_expires = ?, version = version + 1, updated_at = ? WHERE id = ?",
                (int(JobState.RUNNING), owner, now + lease_seconds, now, row["id"]),
            )
            return load(conn, row["id"])

    def renew(self, held: list[tuple[str, int]], lease_seconds: float) -> int:
        """Extends the leases of running jobs, each fenced by its attempt; returns how many
        were still held."""
        expires = time.time() + lease_seconds
        with self.db.write() as conn:
            cur = conn.executemany(
                "UPDATE jobs SET lease_expires = ? WHERE id = ? AND attempt = ? AND state = ?",
                [(expires, job_id, attempt, int(JobState.RUNNING)) for job_id, attempt in held],
            )
            return cur.rowcount

    def _fenced_update(
        self,
        job_id: str,
        attempt: int,
        assignments: str,
        args: tuple[object, ...],
        before_commit: Callable[[sqlite3.Connection], None] | None = None,
    ) -> Job | None:
        with self.db.write() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {assignments}, version = version + 1, updated_at = ?"
                " WHERE id = ? AND attempt = ? AND state = ?",
                (*args, time.time(), job_id, attempt, int(JobState.RUNNING)),
            )
            if cur.rowcount != 1:
                log.info("job %s attempt %d lost its lease; result discarded", job_id, attempt)
                return None
            if before_commit is not None:
                before_commit(conn)
            return load(conn, job_id)

    def record_faces(
        self, job_id: str, attempt: int, faces: tuple[Face, ...], model_id: str
    ) -> Job | None:
        """Stores detected faces of a running job (before matching)."""
        return self._fenced_update(
            job_id, attempt, "faces = ?, model_id = ?", (codec.faces_to_json(faces), model_id)
        )

    def succeed(
        self,
        job_id: str,
        attempt: int,
        faces: tuple[Face, ...],
        model_id: str,
        alerts: Sequence[AlertDraft] = (),
    ) -> tuple[Job, list[Alert]] | None:
        """Ends a recognition job SUCCEEDED with its alerts, in one transaction."""
        recorded: list[Alert] = []

        def record(conn: sqlite3.Connection) -> None:
            recorded.extend(insert_alerts(conn, job_id, list(alerts)))

        job = self._finish(job_id, attempt, faces, model_id, record if alerts else None)
        return None if job is None else (job, recorded)

    def succeed_enrollment(
        self,
        job_id: str,
        attempt: int,
        face: Face,
        model_id: str,
        embedding: np.ndarray,
        faces_found: int,
        crops: Mapping[CropKind, bytes] | None = None,
    ) -> tuple[Job, GalleryFace] | None:
        """Ends an enrolment job SUCCEEDED with its gallery face and crops, in one
        transaction."""
        added: list[GalleryFace] = []

        def enroll(conn: sqlite3.Connection) -> Enrollment:
            identity_id = load(conn, job_id).spec.identity_id
            gallery_face = insert_face(conn, identity_id, model_id, embedding, job_id, crops or {})
            added.append(gallery_face)
            return Enrollment(identity_id, gallery_face.id, faces_found)

        job = self._finish(job_id, attempt, (face,), model_id, enroll=enroll)
        return None if job is None else (job, added[0])

    def succeed_reembedding(
        self,
        job_id: str,
        attempt: int,
        face_ids: tuple[int, ...],
        model_id: str,
        vectors: np.ndarray,
    ) -> tuple[Job, list[tuple[GalleryFace, GalleryFace]]] | None:
        """Ends a REEMBED job SUCCEEDED with its faces' new embeddings, in one transaction."""
        moved: list[tuple[GalleryFace, GalleryFace]] = []

        def record(conn: sqlite3.Connection) -> None:
            moved.extend(update_embeddings(conn, face_ids, model_id, vectors))

        job = self._finish(job_id, attempt, (), model_id, record)
        return None if job is None else (job, moved)

    def active(self, kind: JobKind) -> list[Job]:
        """Queued and running jobs of one kind, oldest first."""
        rows = (
            self.db.read()
            .execute(
                "SELECT * FROM jobs WHERE kind = ? AND state IN (?, ?) ORDER BY created_at",
                (int(kind), *ACTIVE),
            )
            .fetchall()
        )
        return [row_to_job(r) for r in rows]

    def _finish(
        self,
        job_id: str,
        attempt: int,
        faces: tuple[Face, ...],
        model_id: str,
        before_commit: Callable[[sqlite3.Connection], None] | None = None,
        enroll: Callable[[sqlite3.Connection], Enrollment] | None = None,
    ) -> Job | None:
        """The SUCCEEDED transaction; `enroll` and `before_commit` write inside it."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT state, attempt, enrollment FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None or row["state"] != JobState.RUNNING or row["attempt"] != attempt:
                log.info("job %s attempt %d lost its lease; result discarded", job_id, attempt)
                return None
            enrollment = enroll(conn) if enroll is not None else None
            if before_commit is not None:
                before_commit(conn)
            conn.execute(
                "UPDATE jobs SET state = ?, faces = ?, model_id = ?, enrollment = ?,"
                " lease_owner = NULL, lease_expires = NULL, version = version + 1,"
                " updated_at = ? WHERE id = ?",
                (
                    int(JobState.SUCCEEDED),
                    codec.faces_to_json(faces),
                    model_id,
                    codec.enrollment_to_json(enrollment) if enrollment else row["enrollment"],
                    time.time(),
                    job_id,
                ),
            )
            return load(conn, job_id)

    def fail(self, job_id: str, attempt: int, error: JobError) -> Job | None:
        """Ends a running job FAILED for good (the photo, not the worker, is at fault)."""
        return self._fenced_update(
            job_id,
            attempt,
            "state = ?, error_code = ?, error_message = ?, lease_owner = NULL,"
            " lease_expires = NULL",
            (int(JobState.FAILED), error.code, error.message),
        )

    def retry(self, job_id: str, attempt: int, error: JobError, max_attempts: int) -> Job | None:
        """Returns a running job to the queue after a crash, or fails it when out of attempts."""
        with self.db.write() as conn:
            if not release(conn, job_id, attempt, error, max_attempts):
                log.info("job %s attempt %d lost its lease; result discarded", job_id, attempt)
                return None
            return load(conn, job_id)

    def cancel(self, job_id: str) -> Job:
        with self.db.write() as conn:
            row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise NotFound(f"job {job_id!r} does not exist")
            state = JobState(row["state"])
            if state.terminal:
                raise FailedPrecondition(
                    f"job {job_id!r} already finished ({state.name.lower()})",
                    reason="JOB_FINISHED",
                )
            conn.execute(
                "UPDATE jobs SET state = ?, lease_owner = NULL, lease_expires = NULL,"
                " version = version + 1, updated_at = ? WHERE id = ?",
                (int(JobState.CANCELLED), time.time(), job_id),
            )
            return load(conn, job_id)

    def expire_leases(
        self, max_attempts: int, owner_prefix: str | None = None, max_interruptions: int = 10
    ) -> list[Job]:
        """Requeues (or fails, when out of attempts) running jobs whose lease lapsed.

        With `owner_prefix`, every running job of those owners counts as lapsed: used at
        start-up for the jobs of a previous run, which were interrupted by its end; those
        are requeued without spending an attempt, up to `max_interruptions` times.
        """
        now = time.time()
        changed: list[Job] = []
        with self.db.write() as conn:
            if owner_prefix is None:
                rows = conn.execute(
                    "SELECT id, attempt FROM jobs WHERE state = ? AND lease_expires < ?",
                    (int(JobState.RUNNING), now),
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT id, attempt FROM jobs WHERE state = ? AND lease_owner LIKE ?",
                    (int(JobState.RUNNING), owner_prefix + "%"),
                ).fetchall()
            lost = JobError("WORKER_LOST", "the worker stopped while processing the photo")
            interrupted = 0 if owner_prefix is None else max_interruptions
            for row in rows:
                release(conn, row["id"], row["attempt"], lost, max_attempts, interrupted)
                changed.append(load(conn, row["id"]))
        for job in changed:
            log.warning("job %s lease lapsed; now %s", job.id, job.state.name)
        return changed

    def redact(self, identity_ids: set[str]) -> list[str]:
        return redact_jobs(self.db, identity_ids)

    def photo_in_use(self, sha256: str) -> bool:
        """Whether any queued or running job still needs the photo."""
        row = (
            self.db.read()
            .execute(
                "SELECT 1 FROM jobs WHERE photo_sha256 = ? AND state IN (?, ?) LIMIT 1",
                (sha256, *ACTIVE),
            )
            .fetchone()
        )
        return row is not None

    def active_photos(self) -> set[str]:
        rows = (
            self.db.read()
            .execute("SELECT DISTINCT photo_sha256 FROM jobs WHERE state IN (?, ?)", ACTIVE)
            .fetchall()
        )
        return {r[0] for r in rows}
