"""The SQLite database: one connection per thread, WAL, schema on first open."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind INTEGER NOT NULL,
    state INTEGER NOT NULL,
    request_id TEXT UNIQUE,
    spec TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    photo_sha256 TEXT NOT NULL,
    image TEXT NOT NULL,
    faces TEXT NOT NULL DEFAULT '[]',
    enrollment TEXT,
    error_code TEXT,
    error_message TEXT,
    model_id TEXT NOT NULL DEFAULT '',
    attempt INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires REAL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (state, priority DESC, created_at);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_photo ON jobs (photo_sha256, state);

-- Jobs per state, kept by triggers: counting a state's rows costs as many steps as it has
-- rows, and the queue-full check runs on every submission, when the queue is longest.
CREATE TABLE IF NOT EXISTS job_counts (state INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS job_counts_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO job_counts (state, n) VALUES (NEW.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS job_counts_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
END;
CREATE TRIGGER IF NOT EXISTS job_counts_update AFTER UPDATE OF state ON jobs
WHEN OLD.state != NEW.state BEGIN
    UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
    INSERT INTO job_counts (state, n) VALUES (NEW.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS identities (
    id TEXT PRIMARY KEY,
    collection TEXT NOT NULL REFERENCES collections (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS identities_collection ON identities (collection, name, id);

CREATE TABLE IF NOT EXISTS faces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    model_id TEXT NOT NULL,
    embedding BLOB NOT NULL,
    source_job_id TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS faces_identity ON faces (identity_id);
CREATE INDEX IF NOT EXISTS faces_collection_model ON faces (collection, model_id, id);

-- Each enrolled face's crops (PNG), one per crop kind: biometric data, deleted with the
-- face, kept so that another model can embed the face again.
CREATE TABLE IF NOT EXISTS face_crops (
    face_id INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
    kind INTEGER NOT NULL,
    png BLOB NOT NULL,
    PRIMARY KEY (face_id, kind)
);

CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL REFERENCES collections (name) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    job_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    name TEXT NOT NULL,
    similarity REAL NOT NULL,
    box TEXT NOT NULL,
    face_index INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_collection ON alerts (collection, id);
CREATE INDEX IF NOT EXISTS alerts_identity ON alerts (identity_id, id);

CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    state INTEGER NOT NULL,
    next_attempt_at REAL,
    attempts TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries (alert_id);

CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    parent_id TEXT NOT NULL DEFAULT '',
    secret_sha256 BLOB NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL,
    used_at REAL
);
CREATE INDEX IF NOT EXISTS api_keys_parent ON api_keys (parent_id);
"""

# Indexes on migrated columns, created once the columns exist.
LATE_SCHEMA = """
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, created_at DESC, id DESC);
"""

# Columns added after a table was first created: (table, column, definition).
MIGRATIONS = (
    ("collections", "alert_on_match", "INTEGER NOT NULL DEFAULT 0"),
    ("collections", "alert_threshold", "REAL NOT NULL DEFAULT 0.8"),
    # 1: alert_threshold is unset and the served model's default applies.
    ("collections", "model_threshold", "INTEGER NOT NULL DEFAULT 0"),
    # The id of the key whose holder submitted the job ('' before keys existed).
    ("jobs", "owner", "TEXT NOT NULL DEFAULT ''"),
    # Attempts a job lost to its compute server stopping, which do not count against it.
    ("jobs", "interruptions", "INTEGER NOT NULL DEFAULT 0"),
    # The enrolled face that matched (0: unknown, or erased).
    ("alerts", "face_id", "INTEGER NOT NULL DEFAULT 0"),
)


class Database:
    """Hands each thread its own connection to one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # Writers of this process queue here instead of in SQLite's busy handler, which
        # sleeps in steps of up to 100 ms and would add that to requests under load.
        self._write_lock = threading.Lock()
        conn = self.connection()
        conn.executescript(SCHEMA)
        for table, column, definition in MIGRATIONS:
            columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        conn.executescript(LATE_SCHEMA)
        # Counted once at open, so a database from before the triggers (or one edited by
        # hand) starts right.
        with self.write() as tx:
            tx.execute("DELETE FROM job_counts")
            tx.execute("INSERT INTO job_counts SELECT state, COUNT(*) FROM jobs GROUP BY state")

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            # Deleted rows (faces, crops: biometric data) are overwritten with zeros, not left
            # in free pages.
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A `BEGIN IMMEDIATE` transaction: committed on success, rolled back on error."""
        conn = self.connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def checkpoint(self) -> None:
        """Copies the WAL into the database and empties it, so that the old versions of
        deleted rows it held are gone from disk too."""
        with self._write_lock:
            busy, _, _ = self.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log.warning("WAL checkpoint incomplete: a reader held it; the next one retries")

    def read(self) -> sqlite3.Connection:
        """A connection for single-statement reads (autocommit)."""
        return self.connection()
