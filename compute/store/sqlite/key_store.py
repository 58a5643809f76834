"""API keys in SQLite: hashed secrets, revocation that reaches a key's sessions."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from facerec.compute.domain import ApiKey, KeyKind, Role
from facerec.compute.errors import NotFound
from facerec.compute.store.sqlite.database import Database


def _key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        kind=KeyKind(row["kind"]),
        created_at=row["created_at"],
        parent_id=row["parent_id"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        used_at=row["used_at"],
    )


class SqliteKeyStore:
    """The `api_keys` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, key: ApiKey, secret_hash: bytes) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO api_keys (id, name, role, kind, parent_id, secret_sha256,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.name,
                    int(key.role),
                    int(key.kind),
                    key.parent_id,
                    secret_hash,
                    key.created_at,
                    key.expires_at,
                ),
            )

    def get(self, key_id: str) -> tuple[ApiKey, bytes] | None:
        row = self.db.read().execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return None if row is None else (_key(row), bytes(row["secret_sha256"]))

    def list_keys(self, kinds: Sequence[KeyKind], include_revoked: bool) -> list[ApiKey]:
        sql = f"SELECT * FROM api_keys WHERE kind IN ({','.join('?' * len(kinds))})"
        if not include_revoked:
            sql += " AND revoked_at IS NULL"
        rows = self.db.read().execute(sql + " ORDER BY created_at, id", [int(k) for k in kinds])
        return [_key(r) for r in rows]

    def revoke(self, key_id: str, now: float) -> tuple[ApiKey, int]:
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None or row["kind"] == int(KeyKind.LOGIN):
                raise NotFound(f"there is no key {key_id!r}")
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (now, key_id),
            )
            # Its sessions and unused login tokens go with it; the count is of sessions.
            sessions = conn.execute(
                "SELECT COUNT(*) FROM api_keys WHERE parent_id = ? AND kind = ?"
                " AND revoked_at IS NULL",
                (key_id, int(KeyKind.SESSION)),
            ).fetchone()[0]
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE parent_id = ? AND revoked_at IS NULL",
                (now, key_id),
            )
            row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _key(row), sessions

    def redeem(self, key_id: str, now: float) -> bool:
        with self.db.write() as conn:
            return (
                conn.execute(
                    "UPDATE api_keys SET used_at = ? WHERE id = ? AND used_at IS NULL",
                    (now, key_id),
                ).rowcount
                == 1
            )

    def count(self, kind: KeyKind) -> int:
        return (
            self.db.read()
            .execute("SELECT COUNT(*) FROM api_keys WHERE kind = ?", (int(kind),))
            .fetchone()[0]
        )
