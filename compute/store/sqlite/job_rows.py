"""Jobs as SQLite rows: reading them, counting them, and releasing a running attempt."""

from __future__ import annotations

import sqlite3
import time

from facerec.compute.domain import Job, JobError, JobKind, JobState
from facerec.compute.store import codec

ACTIVE = (int(JobState.QUEUED), int(JobState.RUNNING))


def row_to_job(row: sqlite3.Row) -> Job:
    """A job as its row stores it."""
    error = None
    if row["error_code"]:
        error = JobError(row["error_code"], row["error_message"] or "")
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        state=JobState(row["state"]),
        spec=codec.spec_from_json(row["spec"]),
        image=codec.image_from_json(row["image"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        faces=codec.faces_from_json(row["faces"]),
        error=error,
        model_id=row["model_id"],
        attempt=row["attempt"],
        version=row["version"],
        enrollment=codec.enrollment_from_json(row["enrollment"]),
    )


def load(conn: sqlite3.Connection, job_id: str) -> Job:
    """The job `job_id`, read inside the caller's transaction."""
    return row_to_job(conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())


def count_in(conn: sqlite3.Connection, state: JobState) -> int:
    """Jobs in `state`, from the counts the triggers keep."""
    row = conn.execute("SELECT n FROM job_counts WHERE state = ?", (int(state),)).fetchone()
    return row[0] if row else 0


def release(
    conn: sqlite3.Connection,
    job_id: str,
    attempt: int,
    error: JobError,
    max_attempts: int,
    interrupted: int = 0,
) -> bool:
    """Inside a transaction: puts a running attempt's job back in the queue, or ends it FAILED
    when it has had `max_attempts`. False when that attempt no longer holds the job.

    With `interrupted` > 0 the attempt ended because its compute server stopped: it is not
    charged (the photo is not at fault), unless the job was interrupted that many times
    already, which looks like a crash loop."""
    row = conn.execute("SELECT interruptions FROM jobs WHERE id = ?", (job_id,)).fetchone()
    before = row[0] if row else 0
    if interrupted and before >= interrupted:
        err = JobError(
            "INTERRUPTED_TOO_OFTEN",
            f"the compute server stopped {before + 1} times while this job ran; it may be"
            " what crashes it, or the server is failing for another reason (see its log)",
        )
        assignments = "state = ?, error_code = ?, error_message = ?"
        args: tuple[object, ...] = (int(JobState.FAILED), err.code, err.message)
    elif interrupted:
        assignments, args = (
            "state = ?, faces = '[]', interruptions = interruptions + 1",
            (int(JobState.QUEUED),),
        )
    elif attempt - before >= max_attempts:
        err = error.exhausted(attempt - before)
        assignments = "state = ?, error_code = ?, error_message = ?"
        args = (int(JobState.FAILED), err.code, err.message)
    else:
        assignments, args = "state = ?, faces = '[]'", (int(JobState.QUEUED),)
    cur = conn.execute(
        f"UPDATE jobs SET {assignments}, lease_owner = NULL, lease_expires = NULL,"
        " version = version + 1, updated_at = ? WHERE id = ? AND attempt = ? AND state = ?",
        (*args, time.time(), job_id, attempt, int(JobState.RUNNING)),
    )
    return cur.rowcount == 1
