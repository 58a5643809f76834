"""The stores on one SQLite file (WAL, `BEGIN IMMEDIATE` for claims and results)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facerec.compute.store.sqlite.alert_store import SqliteAlertStore
from facerec.compute.store.sqlite.database import Database
from facerec.compute.store.sqlite.gallery_store import SqliteGalleryStore
from facerec.compute.store.sqlite.job_store import SqliteJobStore
from facerec.compute.store.sqlite.key_store import SqliteKeyStore


@dataclass(frozen=True)
class SqliteStores:
    """The stores, sharing one database file."""

    jobs: SqliteJobStore
    gallery: SqliteGalleryStore
    alerts: SqliteAlertStore
    keys: SqliteKeyStore


def open_stores(path: Path) -> SqliteStores:
    """Opens (creating and migrating when needed) the database at `path`."""
    db = Database(path)
    return SqliteStores(
        SqliteJobStore(db), SqliteGalleryStore(db), SqliteAlertStore(db), SqliteKeyStore(db)
    )
