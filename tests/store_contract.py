"""Contract tests of the stores, written against `facerec.compute.store.interfaces`.

Each store implementation gets a test class that inherits these mixins and says how to open
its stores (`open_stores`), as huey's `StorageTests` does; `tests/test_sqlite_store.py` is
the SQLite one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facerec.compute.domain import (
    ERASED_ID,
    ERASED_NAME,
    AlertDraft,
    ApiKey,
    DeliveryAttempt,
    DeliveryState,
    Face,
    ImageInfo,
    JobError,
    JobKind,
    JobSpec,
    JobState,
    KeyKind,
    Match,
    Role,
)
from facerec.compute.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from facerec.compute.store.interfaces import AlertStore, GalleryStore, JobStore

IMAGE = ImageInfo(640, 480, "JPEG", 1234, "ab" * 32)
FACE = Face((1.0, 2.0, 30.0, 40.0), 0.99, ((5.0, 6.0),) * 5)
HOOK = ("https://example.com/hook", "s" * 20)


class Stores:
    """Opens an implementation's stores on a fresh location under `tmp_path`."""

    def open_stores(self, path: Path) -> Any:
        """An object with `jobs`, `gallery`, `alerts` and `keys` attributes."""
        raise NotImplementedError

    @pytest.fixture
    def stores(self, tmp_path: Path) -> Any:
        return self.open_stores(tmp_path)

    @pytest.fixture
    def store(self, stores: Any) -> JobStore:
        return stores.jobs

    @pytest.fixture
    def gallery(self, stores: Any) -> GalleryStore:
        return stores.gallery

    @pytest.fixture
    def alerts(self, stores: Any) -> AlertStore:
        return stores.alerts


def unit(seed: int, d: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(d).astype(np.float32)
    return v / np.linalg.norm(v)


def enrolment(store: JobStore, identity_id: str) -> Any:
    store.create(JobKind.ENROLL, JobSpec(identity_id=identity_id), IMAGE, 10)
    return store.claim("w", 60)


class JobStoreContract(Stores):
    """The queue, leases, fencing and idempotency."""

    def test_claim_takes_highest_priority_then_oldest(self, store: JobStore) -> None:
        low, _ = store.create(JobKind.RECOGNIZE, JobSpec(priority=0), IMAGE, 10)
        high, _ = store.create(JobKind.RECOGNIZE, JobSpec(priority=5), IMAGE, 10)
        low2, _ = store.create(JobKind.RECOGNIZE, JobSpec(priority=0), IMAGE, 10)
        order = [store.claim("w", 60).id for _ in range(3)]
        assert order == [high.id, low.id, low2.id]
        assert store.claim("w", 60) is None

    def test_request_id_is_idempotent(self, store: JobStore) -> None:
        a, created_a = store.create(JobKind.RECOGNIZE, JobSpec(request_id="r1"), IMAGE, 10)
        b, created_b = store.create(JobKind.RECOGNIZE, JobSpec(request_id="r1"), IMAGE, 10)
        assert (created_a, created_b) == (True, False)
        assert a.id == b.id
        assert store.count(JobState.QUEUED) == 1

    def test_full_queue_is_resource_exhausted(self, store: JobStore) -> None:
        store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 1)
        with pytest.raises(ResourceExhausted, match="queue is full"):
            store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 1)

    def test_results_are_fenced_by_attempt(self, store: JobStore) -> None:
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
        assert done is not None
        done, _ = done
        assert done.state is JobState.SUCCEEDED and len(done.faces) == 2
        assert store.succeed(job.id, second.attempt, (FACE,), "m") is None
        assert len(store.get(job.id).faces) == 2

    def test_retry_then_fail_after_max_attempts(self, store: JobStore) -> None:
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

    def test_startup_recovery_requeues_local_owners_only(self, store: JobStore) -> None:
        a, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
        b, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
        store.claim("local/1/0", 600)
        store.claim("remote-gpu-1", 600)
        recovered = store.expire_leases(3, owner_prefix="local/")
        assert [j.id for j in recovered] == [a.id]
        assert store.get(b.id).state is JobState.RUNNING

    def test_cancel(self, store: JobStore) -> None:
        job, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
        claimed = store.claim("w", 60)
        assert store.cancel(job.id).state is JobState.CANCELLED
        assert store.succeed(job.id, claimed.attempt, (FACE,), "m") is None
        with pytest.raises(FailedPrecondition):
            store.cancel(job.id)
        with pytest.raises(NotFound):
            store.cancel("job_missing")

    def test_list_pages_and_filters(self, store: JobStore) -> None:
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

    def test_photo_in_use(self, store: JobStore) -> None:
        job, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
        assert store.photo_in_use(IMAGE.sha256)
        store.cancel(job.id)
        assert not store.photo_in_use(IMAGE.sha256)

    def test_counts_follow_every_transition(self, store: JobStore) -> None:
        """The per-state counts equal a full listing after each kind of change."""

        def check() -> None:
            for state in JobState:
                listed, _ = store.list([state], 1000, None)
                assert store.count(state) == len(listed), state

        jobs = [store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)[0] for _ in range(6)]
        store.create(JobKind.RECOGNIZE, JobSpec(request_id="dup"), IMAGE, 10)
        store.create(JobKind.RECOGNIZE, JobSpec(request_id="dup"), IMAGE, 10)
        check()
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
        check()
        assert store.count(JobState.QUEUED) == 4
        assert store.count(JobState.SUCCEEDED) == store.count(JobState.FAILED) == 1


class InterruptionContract(Stores):
    """Attempts cut short by the server stopping are not the photo's fault."""

    def test_interrupted_attempts_are_not_charged_up_to_a_cap(self, store: JobStore) -> None:
        store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
        for n in (1, 2, 3):
            assert store.claim("w", 60).attempt == n
            (back,) = store.expire_leases(2, owner_prefix="", max_interruptions=3)
            assert back.state is JobState.QUEUED, n
        assert store.claim("w", 60).attempt == 4
        (failed,) = store.expire_leases(2, owner_prefix="", max_interruptions=3)
        assert failed.state is JobState.FAILED and failed.error.code == "INTERRUPTED_TOO_OFTEN"
        assert "stopped 4 times" in failed.error.message

    def test_worker_failures_still_count_after_interruptions(self, store: JobStore) -> None:
        job, _ = store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
        store.claim("w", 60)
        store.expire_leases(2, owner_prefix="")  # an interruption: free
        crash = JobError("WORKER_ERROR", "boom")
        second = store.claim("w", 60)
        assert store.retry(job.id, second.attempt, crash, 2).state is JobState.QUEUED
        third = store.claim("w", 60)
        failed = store.retry(job.id, third.attempt, crash, 2)
        assert failed.state is JobState.FAILED and failed.error.code == "ATTEMPTS_EXHAUSTED"
        assert "after 2 attempts" in failed.error.message


class ResultContract(Stores):
    """A job's result is one unit of work with its alerts or its gallery face."""

    def test_result_and_alerts_commit_together(self, stores: Any) -> None:
        stores.gallery.create_collection("wanted", alert_on_match=True, webhooks=(HOOK,))
        person = stores.gallery.create_identity("wanted", "Someone")
        job, _ = stores.jobs.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
        claimed = stores.jobs.claim("w", 60)
        draft = AlertDraft("wanted", person.id, "Someone", 0.93, FACE.box, 0)
        done, recorded = stores.jobs.succeed(job.id, claimed.attempt, (FACE,), "m", [draft])
        assert done.state is JobState.SUCCEEDED
        assert [(a.job_id, a.identity_id, a.similarity) for a in recorded] == [
            (job.id, person.id, pytest.approx(0.93))
        ]
        assert stores.alerts.after(0, "", "", 10) == recorded
        (delivery,) = stores.alerts.deliveries(recorded[0].id)
        assert delivery.url == HOOK[0] and delivery.state is DeliveryState.PENDING
        # A stale attempt records neither a result nor an alert.
        assert stores.jobs.succeed(job.id, claimed.attempt, (FACE,), "m", [draft]) is None
        assert len(stores.alerts.after(0, "", "", 10)) == 1

    def test_enrolment_adds_the_face_with_the_result(self, stores: Any) -> None:
        stores.gallery.create_collection("staff")
        person = stores.gallery.create_identity("staff", "Someone")
        claimed = enrolment(stores.jobs, person.id)
        vector = unit(1)
        done, face = stores.jobs.succeed_enrollment(
            claimed.id, claimed.attempt, FACE, "m", vector, faces_found=2
        )
        assert done.state is JobState.SUCCEEDED
        assert done.enrollment.face_id == face.id and done.enrollment.faces_in_photo == 2
        ids, vectors = stores.gallery.vectors("staff", "m")
        assert ids.tolist() == [face.id] and np.allclose(vectors[0], vector)
        assert [f.id for f in stores.gallery.get_identity(person.id).faces] == [face.id]

    def test_enrolment_of_a_deleted_identity_changes_nothing(self, stores: Any) -> None:
        stores.gallery.create_collection("staff")
        person = stores.gallery.create_identity("staff", "Someone")
        claimed = enrolment(stores.jobs, person.id)
        stores.gallery.delete_identity(person.id)
        with pytest.raises(NotFound, match="deleted"):
            stores.jobs.succeed_enrollment(claimed.id, claimed.attempt, FACE, "m", unit(1), 1)
        assert stores.jobs.get(claimed.id).state is JobState.RUNNING
        assert stores.gallery.index_keys() == []


class GalleryStoreContract(Stores):
    """Collections, identities and faces."""

    def test_collections(self, gallery: GalleryStore) -> None:
        gallery.create_collection("staff", "the team")
        gallery.create_collection("wanted", alert_on_match=True, alert_threshold=0.7)
        with pytest.raises(AlreadyExists):
            gallery.create_collection("staff")
        with pytest.raises(InvalidArgument):
            gallery.create_collection("Not Valid")
        assert [c.name for c in gallery.list_collections()] == ["staff", "wanted"]
        assert [c.name for c in gallery.watchlists()] == ["wanted"]
        assert gallery.get_collection("staff").description == "the team"
        with pytest.raises(NotFound):
            gallery.get_collection("nobody")

    def test_identities_page_by_name(self, gallery: GalleryStore) -> None:
        gallery.create_collection("staff")
        for name in ("Carol", "Alice", "Bob"):
            gallery.create_identity("staff", name)
        with pytest.raises(NotFound):
            gallery.create_identity("nobody", "Dan")
        seen, cursor = [], None
        while True:
            page, cursor = gallery.list_identities("staff", 2, cursor)
            seen += [i.name for i in page]
            if cursor is None:
                break
        assert seen == ["Alice", "Bob", "Carol"]

    def test_deletes_take_the_faces_with_them(self, stores: Any) -> None:
        gallery = stores.gallery
        gallery.create_collection("staff")
        a = gallery.create_identity("staff", "A")
        b = gallery.create_identity("staff", "B")
        faces = {}
        for n, person in enumerate((a, a, b)):
            claimed = enrolment(stores.jobs, person.id)
            _, face = stores.jobs.succeed_enrollment(
                claimed.id, claimed.attempt, FACE, "m", unit(n), 1
            )
            faces.setdefault(person.id, []).append(face.id)
        assert gallery.index_keys() == [("staff", "m")] and gallery.models_of("staff") == {"m"}
        owners = gallery.owners([*faces[a.id], *faces[b.id], 999])
        assert owners[faces[b.id][0]] == (b.id, "B", "staff") and 999 not in owners
        assert gallery.delete_face(faces[a.id][0]).identity_id == a.id
        with pytest.raises(NotFound):
            gallery.delete_face(faces[a.id][0])
        assert [f.id for f in gallery.delete_identity(a.id)] == faces[a.id][1:]
        assert gallery.face_ids("staff", "m").tolist() == faces[b.id]
        ids, gone = gallery.delete_collection("staff")
        assert ids == [b.id] and [f.id for f in gone] == faces[b.id]
        assert gallery.index_keys() == [] and gallery.list_collections() == []


class AlertStoreContract(Stores):
    """The alert log and webhook deliveries."""

    def test_log_pages_and_deliveries(self, stores: Any) -> None:
        stores.gallery.create_collection("wanted", alert_on_match=True, webhooks=(HOOK,))
        person = stores.gallery.create_identity("wanted", "Someone")
        recorded = []
        for _ in range(3):
            job, _ = stores.jobs.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)
            claimed = stores.jobs.claim("w", 60)
            draft = AlertDraft("wanted", person.id, "Someone", 0.9, FACE.box, 0)
            recorded += stores.jobs.succeed(job.id, claimed.attempt, (FACE,), "m", [draft])[1]
        alerts = stores.alerts
        ids = [a.id for a in recorded]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert [a.id for a in alerts.after(ids[0], "wanted", person.id, 10)] == ids[1:]
        assert alerts.after(0, "other", "", 10) == []
        page, cursor = alerts.page("", "", 2, None)
        assert [a.id for a in page] == ids[:0:-1] and cursor == ids[1]
        rest, cursor = alerts.page("", "", 2, cursor)
        assert [a.id for a in rest] == ids[:1] and cursor is None
        assert alerts.get(ids[0]) == recorded[0] and alerts.get(10**9) is None
        with pytest.raises(NotFound):
            alerts.deliveries(10**9)

        due = alerts.due(time.time() + 1, 10)
        assert len(due) == 3 and alerts.next_due() is not None
        first = due[0]
        attempt = DeliveryAttempt(time=time.time(), status_code=500, error="", duration_ms=3)
        alerts.record_attempt(first.id, attempt, DeliveryState.PENDING, time.time() + 3600)
        assert first.id not in [d.id for d in alerts.due(time.time() + 1, 10)]
        alerts.record_attempt(first.id, attempt, DeliveryState.FAILED, None)
        (delivery,) = alerts.deliveries(first.alert_id)
        assert delivery.state is DeliveryState.FAILED and len(delivery.attempts) == 2


class ErasureContract(Stores):
    """Deleted people leave job results, enrolment records and alerts as the marker."""

    def test_redaction_replaces_the_person_everywhere_and_no_one_else(self, stores: Any) -> None:
        stores.gallery.create_collection("wanted", alert_on_match=True)
        gone = stores.gallery.create_identity("wanted", "Gone Person")
        kept = stores.gallery.create_identity("wanted", "Kept Person")
        enrolled = enrolment(stores.jobs, gone.id)
        stores.jobs.succeed_enrollment(enrolled.id, enrolled.attempt, FACE, "m", unit(1), 1)
        job, _ = stores.jobs.create(JobKind.RECOGNIZE, JobSpec(owner="u1"), IMAGE, 10)
        claimed = stores.jobs.claim("w", 60)
        face = Face(
            FACE.box,
            FACE.score,
            FACE.landmarks,
            (
                Match(gone.id, "Gone Person", "wanted", 0.9, 1),
                Match(kept.id, "Kept Person", "wanted", 0.8, 2),
            ),
        )
        drafts = [AlertDraft("wanted", i.id, i.name, 0.9, FACE.box, 0) for i in (gone, kept)]
        stores.jobs.succeed(job.id, claimed.attempt, (face,), "m", drafts)

        photos = stores.jobs.redact({gone.id})
        assert photos == [IMAGE.sha256]  # the photo of her enrolment job
        assert stores.alerts.redact({gone.id}) == 1
        matches = stores.jobs.get(job.id).faces[0].matches
        assert [(m.identity_id, m.name) for m in matches] == [
            (ERASED_ID, ERASED_NAME),
            (kept.id, "Kept Person"),
        ]
        again = stores.jobs.get(enrolled.id)
        assert again.spec.identity_id == ERASED_ID and again.enrollment.identity_id == ERASED_ID
        names = [(a.identity_id, a.name) for a in stores.alerts.after(0, "", "", 10)]
        assert names == [(ERASED_ID, ERASED_NAME), (kept.id, "Kept Person")]
        # Owners see their own jobs' alerts only.
        assert len(stores.alerts.after(0, "", "", 10, owner="u1")) == 2
        assert stores.alerts.after(0, "", "", 10, owner="u2") == []


class KeyStoreContract(Stores):
    """API keys: hashed secrets, one-use login tokens, revocation that reaches sessions."""

    def test_keys_sessions_and_tokens(self, stores: Any) -> None:
        keys = stores.keys
        now = time.time()
        admin = ApiKey("a" * 16, "admin", Role.ADMIN, KeyKind.KEY, now)
        session = ApiKey("b" * 16, "session", Role.ADMIN, KeyKind.SESSION, now, admin.id)
        login = ApiKey("c" * 16, "login", Role.ADMIN, KeyKind.LOGIN, now, admin.id, now + 60)
        for k in (admin, session, login):
            keys.add(k, k.id.encode())
        assert keys.get(admin.id) == (admin, admin.id.encode())
        assert keys.get("f" * 16) is None
        assert keys.count(KeyKind.KEY) == 1
        assert [k.id for k in keys.list_keys([KeyKind.KEY], False)] == [admin.id]
        both = keys.list_keys([KeyKind.KEY, KeyKind.SESSION], False)
        assert {k.id for k in both} == {admin.id, session.id}
        assert keys.redeem(login.id, now) is True
        assert keys.redeem(login.id, now) is False  # one use only
        revoked, sessions = keys.revoke(admin.id, now)
        assert revoked.revoked_at == now and sessions == 1
        assert keys.get(session.id)[0].revoked_at == now
        assert keys.list_keys([KeyKind.KEY, KeyKind.SESSION], False) == []
        assert len(keys.list_keys([KeyKind.KEY], True)) == 1
        with pytest.raises(NotFound):
            keys.revoke("9" * 16, now)
        with pytest.raises(NotFound):
            keys.revoke(login.id, now)  # login tokens are not keys
