"""Alerts and their webhook deliveries in SQLite."""

from __future__ import annotations

import json
import sqlite3
import time

from facerec.compute.domain import (
    ERASED_ID,
    ERASED_NAME,
    Alert,
    AlertDraft,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
)
from facerec.compute.errors import NotFound
from facerec.compute.store.sqlite.database import Database


def _alert(row: sqlite3.Row) -> Alert:
    return Alert(
        id=row["id"],
        created_at=row["created_at"],
        job_id=row["job_id"],
        collection=row["collection"],
        identity_id=row["identity_id"],
        name=row["name"],
        similarity=row["similarity"],
        box=tuple(json.loads(row["box"])),
        face_index=row["face_index"],
        face_id=row["face_id"],
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        id=row["id"],
        alert_id=row["alert_id"],
        url=row["url"],
        secret=row["secret"],
        state=DeliveryState(row["state"]),
        attempts=tuple(DeliveryAttempt(**a) for a in json.loads(row["attempts"])),
        next_attempt_at=row["next_attempt_at"],
    )


def _filters(collection: str, identity_id: str, owner: str | None) -> tuple[str, list[object]]:
    sql, args = "", []
    if owner is not None:
        sql += " AND job_id IN (SELECT id FROM jobs WHERE owner = ?)"
        args.append(owner)
    if collection:
        sql += " AND collection = ?"
        args.append(collection)
    if identity_id:
        sql += " AND identity_id = ?"
        args.append(identity_id)
    return sql, args


def insert_alerts(conn: sqlite3.Connection, job_id: str, drafts: list[AlertDraft]) -> list[Alert]:
    """Inserts alerts and their deliveries inside the caller's transaction."""
    now = time.time()
    alerts = []
    for d in drafts:
        cur = conn.execute(
            "INSERT INTO alerts (created_at, job_id, collection, identity_id, name,"
            " similarity, box, face_index, face_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now,
                job_id,
                d.collection,
                d.identity_id,
                d.name,
                d.similarity,
                json.dumps(list(d.box)),
                d.face_index,
                d.face_id,
            ),
        )
        alert_id = int(cur.lastrowid)
        conn.execute(
            "INSERT INTO deliveries (alert_id, url, secret, state, next_attempt_at)"
            " SELECT ?, url, secret, ?, ? FROM webhooks WHERE collection = ? ORDER BY id",
            (alert_id, int(DeliveryState.PENDING), now, d.collection),
        )
        alerts.append(
            Alert(
                alert_id,
                now,
                job_id,
                d.collection,
                d.identity_id,
                d.name,
                d.similarity,
                d.box,
                d.face_index,
            )
        )
    return alerts


class SqliteAlertStore:
    """The durable alert log; deliveries copy the webhook's URL and secret when queued
    (alerts are inserted by `insert_alerts`, inside the job result's transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, alert_id: int) -> Alert | None:
        row = self.db.read().execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else _alert(row)

    def after(
        self,
        after_id: int,
        collection: str,
        identity_id: str,
        limit: int,
        owner: str | None = None,
    ) -> list[Alert]:
        """Alerts with id > after_id, oldest first."""
        where, args = _filters(collection, identity_id, owner)
        rows = (
            self.db.read()
            .execute(
                f"SELECT * FROM alerts WHERE id > ?{where} ORDER BY id LIMIT ?",
                [after_id, *args, limit],
            )
            .fetchall()
        )
        return [_alert(r) for r in rows]

    def page(
        self,
        collection: str,
        identity_id: str,
        size: int,
        before_id: int | None,
        owner: str | None = None,
    ) -> tuple[list[Alert], int | None]:
        """Newest first; returns the cursor of the next page (None on the last)."""
        where, args = _filters(collection, identity_id, owner)
        if before_id is not None:
            where += " AND id < ?"
            args.append(before_id)
        rows = (
            self.db.read()
            .execute(
                f"SELECT * FROM alerts WHERE 1=1{where} ORDER BY id DESC LIMIT ?", [*args, size + 1]
            )
            .fetchall()
        )
        alerts = [_alert(r) for r in rows[:size]]
        return alerts, (alerts[-1].id if len(rows) > size else None)

    def redact(self, identity_ids: set[str]) -> int:
        if not identity_ids:
            return 0
        ids = sorted(identity_ids)
        with self.db.write() as conn:
            return conn.execute(
                f"UPDATE alerts SET identity_id = ?, name = ?, face_id = 0"
                f" WHERE identity_id IN ({','.join('?' * len(ids))})",
                [ERASED_ID, ERASED_NAME, *ids],
            ).rowcount

    def deliveries(self, alert_id: int) -> list[Delivery]:
        conn = self.db.read()
        if conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone() is None:
            raise NotFound(f"alert {alert_id} does not exist")
        rows = conn.execute(
            "SELECT * FROM deliveries WHERE alert_id = ? ORDER BY id", (alert_id,)
        ).fetchall()
        return [_delivery(r) for r in rows]

    def due(self, now: float, limit: int) -> list[Delivery]:
        rows = (
            self.db.read()
            .execute(
                "SELECT * FROM deliveries WHERE state = ? AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at LIMIT ?",
                (int(DeliveryState.PENDING), now, limit),
            )
            .fetchall()
        )
        return [_delivery(r) for r in rows]

    def next_due(self) -> float | None:
        row = (
            self.db.read()
            .execute(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = ?",
                (int(DeliveryState.PENDING),),
            )
            .fetchone()
        )
        return row[0]

    def record_attempt(
        self,
        delivery_id: int,
        attempt: DeliveryAttempt,
        state: DeliveryState,
        next_attempt_at: float | None,
    ) -> None:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT attempts FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
            attempts = [*json.loads(row["attempts"]), attempt.__dict__]
            conn.execute(
                "UPDATE deliveries SET attempts = ?, state = ?, next_attempt_at = ? WHERE id = ?",
                (json.dumps(attempts), int(state), next_attempt_at, delivery_id),
            )
