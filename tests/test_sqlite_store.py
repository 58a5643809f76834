"""The store contract on SQLite, and what only SQLite has (trigger-kept counts)."""

from __future__ import annotations

from pathlib import Path

from facerec.compute.domain import JobKind, JobSpec, JobState
from facerec.compute.store import sqlite
from tests.store_contract import (
    IMAGE,
    AlertStoreContract,
    ErasureContract,
    GalleryStoreContract,
    InterruptionContract,
    JobStoreContract,
    KeyStoreContract,
    ResultContract,
)


class SqliteStores:
    def open_stores(self, path: Path) -> sqlite.SqliteStores:
        return sqlite.open_stores(path / "facerec.db")


class TestSqliteJobStore(SqliteStores, JobStoreContract):
    def test_counts_are_recounted_at_open(self, stores: sqlite.SqliteStores) -> None:
        """A database reopened with wrong counts (or from before the triggers) starts right."""
        store = stores.jobs
        jobs = [store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, 10)[0] for _ in range(4)]
        with store.db.write() as conn:
            conn.execute("UPDATE job_counts SET n = 999")
            conn.execute("DELETE FROM jobs WHERE id = ?", (jobs[3].id,))
        reopened = sqlite.open_stores(store.db.path).jobs
        assert reopened.count(JobState.QUEUED) == 3
        assert reopened.count(JobState.RUNNING) == 0


class TestSqliteResults(SqliteStores, ResultContract):
    pass


class TestSqliteGalleryStore(SqliteStores, GalleryStoreContract):
    pass


class TestSqliteAlertStore(SqliteStores, AlertStoreContract):
    pass


class TestSqliteErasure(SqliteStores, ErasureContract):
    pass


class TestSqliteKeyStore(SqliteStores, KeyStoreContract):
    pass


class TestSqliteInterruptions(SqliteStores, InterruptionContract):
    pass
