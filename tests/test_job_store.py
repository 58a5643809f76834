"""Contract tests of the job store: the queue, leases, fencing and idempotency.

Every store implementation must pass these; `store` is parametrised over them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from facerec.compute.database import Database
from facerec.compute.domain import Face, ImageInfo, JobError, JobKind, JobSpec, JobState
from facerec.compute.errors import FailedPrecondition, NotFound, ResourceExhausted
from facerec.compute.job_store import JobStore

IMAGE = ImageInfo(640, 480, "JPEG", 1234, "ab" * 32)
FACE = Face((1.0, 2.0, 30.0, 40.0), 0.99, ((5.0, 6.0),) * 5)


@pytest.fixture(params=["sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> JobStore:
    assert request.param == "sqlite"
    return JobStore(Database(tmp_path / "jobs.db"))


def test_claim_takes_highest_priority_then_oldest(store: JobStore) -> None:
    low, _ = store.create(JobKind.RECOGNIZE, JobSpec(priority=0), IMAGE, 10)
    high, _ = store.create(JobKind.RECOGNIZE, JobSpec(priority=5), IMAGE, 10)
    low2, _ = store.create(JobKind.RECOGNIZE, JobSpec(priority=0), IMAGE, 10)
    order = [store.claim("w", 60).id for _ in range(3)]
    assert order == [high.id, low.id, low2.id]
    assert store.claim("w", 60) is None


def test_request_id_is_idempotent(store: JobStore) -> None:
    a, created_a = store.create(JobKind.RECOGNIZE, JobSpec(request_id="r1"), IMAGE, 10)
    b, created_b = store.create(JobKind.RECOGNIZE, JobSpec(request_id="r1"), IMAGE, 10)
    assert (created_a, created_b) == (True, False)
    assert a.id == b.id
    assert store.count(JobState.QUEUED) == 1


def test_full_queue_is_resource_exhausted(store: JobStore) -> None:
    store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 1)
    with pytest.raises(ResourceExhausted, match="queue is full"):
        store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 1)


def test_results_are_fenced_by_attempt(store: JobStore) -> None:
    job, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
    first = store.claim("w1", lease_seconds=0.01)
    time.sleep(0.05)
    (requeued,) = store.expire_leases(max_attempts=3)
    assert requeued.state is JobState.QUEUED
    second = store.claim("w2", lease_seconds=60)
    assert (first.attempt, second.attempt) == (1, 2)
    # The first attempt's holder comes back late: its renewal and result are refused.
    assert store.renew([(job.id, first.attempt)], 60) == 0
    assert store.renew([(job.id, first.attempt), (job.id, second.attempt)], 60) == 1
    assert store.succeed(job.id, first.attempt, (FACE,), "m") is None
    done = store.succeed(job.id, second.attempt, (FACE, FACE), "m")
    assert done is not None and done.state is JobState.SUCCEEDED and len(done.faces) == 2
    assert store.succeed(job.id, second.attempt, (FACE,), "m") is None
    assert len(store.get(job.id).faces) == 2


def test_retry_then_fail_after_max_attempts(store: JobStore) -> None:
    job, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
    for attempt in (1, 2):
        claimed = store.claim("w", 60)
        assert claimed.attempt == attempt
        back = store.retry(job.id, attempt, JobError("WORKER_ERROR", "boom"), max_attempts=3)
        assert back.state is JobState.QUEUED
    claimed = store.claim("w", 60)
    failed = store.retry(job.id, claimed.attempt, JobError("WORKER_ERROR", "boom"), 3)
    assert failed.state is JobState.FAILED
    assert failed.error.code == "ATTEMPTS_EXHAUSTED" and "3 attempts" in failed.error.message


def test_startup_recovery_requeues_local_owners_only(store: JobStore) -> None:
    a, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
    b, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
    store.claim("local/1/0", 600)
    store.claim("remote-gpu-1", 600)
    recovered = store.expire_leases(3, owner_prefix="local/")
    assert [j.id for j in recovered] == [a.id]
    assert store.get(b.id).state is JobState.RUNNING


def test_cancel(store: JobStore) -> None:
    job, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
    claimed = store.claim("w", 60)
    assert store.cancel(job.id).state is JobState.CANCELLED
    assert store.succeed(job.id, claimed.attempt, (FACE,), "m") is None
    with pytest.raises(FailedPrecondition):
        store.cancel(job.id)
    with pytest.raises(NotFound):
        store.cancel("job_missing")


def test_list_pages_and_filters(store: JobStore) -> None:
    ids = [store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)[0].id for _ in range(5)]
    store.claim("w", 60)
    seen, cursor = [], None
    while True:
        page, cursor = store.list([], 2, cursor)
        seen += [j.id for j in page]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    running, _ = store.list([JobState.RUNNING], 10, None)
    assert [j.id for j in running] == [ids[0]]


def test_photo_in_use(store: JobStore) -> None:
    job, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
    assert store.photo_in_use(IMAGE.sha256)
    store.cancel(job.id)
    assert not store.photo_in_use(IMAGE.sha256)


def test_counts_follow_every_transition(store: JobStore) -> None:
    """The per-state counts (kept by triggers) equal a full count after each kind of change,
    and a database reopened with wrong counts is counted again."""

    def check(jobs: JobStore) -> None:
        conn = jobs.db.read()
        for state in JobState:
            full = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE state = ?", (int(state),)
            ).fetchone()[0]
            assert jobs.count(state) == full, state

    jobs = [store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)[0] for _ in range(6)]
    store.create(JobKind.RECOGNIZE, JobSpec(request_id="dup"), IMAGE, 10)
    store.create(JobKind.RECOGNIZE, JobSpec(request_id="dup"), IMAGE, 10)
    check(store)
    assert store.count(JobState.QUEUED) == 7
    done = store.claim("w", 60)
    store.succeed(done.id, done.attempt, (FACE,), "m")
    bad = store.claim("w", 60)
    store.fail(bad.id, bad.attempt, JobError("PHOTO_CORRUPT", "x"))
    back = store.claim("w", 60)
    store.retry(back.id, back.attempt, JobError("WORKER_LOST", "x"), 3)
    store.claim("local/1", 60)
    store.expire_leases(3, owner_prefix="local/")
    store.cancel(jobs[5].id)
    check(store)
    assert store.count(JobState.QUEUED) == 4
    assert store.count(JobState.SUCCEEDED) == store.count(JobState.FAILED) == 1
    with store.db.write() as conn:
        conn.execute("UPDATE job_counts SET n = 999")
        conn.execute("DELETE FROM jobs WHERE id = ?", (jobs[4].id,))
    reopened = JobStore(Database(store.db.path))
    check(reopened)
    assert reopened.count(JobState.QUEUED) == 3
