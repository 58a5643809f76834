"""Collections and their webhooks in SQLite (a part of the gallery store)."""

from __future__ import annotations

import sqlite3
import time

from facerec.compute.domain import Collection, Webhook
from facerec.compute.errors import AlreadyExists, InvalidArgument, NotFound
from facerec.compute.store.rules import (
    MAX_DESCRIPTION,
    MAX_WEBHOOKS,
    UNCHANGED,
    validate_collection_name,
    validate_webhook,
)
from facerec.compute.store.sqlite.database import Database


def _check_threshold(value: float | None) -> None:
    if value is not None and not -1.0 <= value <= 1.0:
        raise InvalidArgument(f"alert_threshold must be between -1 and 1 (got {value:g})")


def _check_description(text: str) -> None:
    if len(text) > MAX_DESCRIPTION:
        raise InvalidArgument(f"description is longer than {MAX_DESCRIPTION} characters")


class CollectionRows:
    """The `collections` and `webhooks` tables."""

    db: Database

    def create_collection(
        self,
        name: str,
        description: str = "",
        alert_on_match: bool = False,
        alert_threshold: float | None = None,
        webhooks: tuple[tuple[str, str], ...] = (),
    ) -> Collection:
        """Creates a collection; with `alert_on_match`, a watchlist POSTing to `webhooks`
        ((url, secret) pairs)."""
        validate_collection_name(name)
        _check_description(description)
        _check_threshold(alert_threshold)
        if len(webhooks) > MAX_WEBHOOKS:
            raise InvalidArgument(f"at most {MAX_WEBHOOKS} webhooks per collection")
        if webhooks and not alert_on_match:
            raise InvalidArgument("webhooks need alert_on_match: only watchlists raise alerts")
        for url, secret in webhooks:
            validate_webhook(url, secret)
        now = time.time()
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO collections (name, description, created_at, alert_on_match,"
                    " alert_threshold, model_threshold) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        description,
                        now,
                        int(alert_on_match),
                        alert_threshold or 0.0,
                        int(alert_threshold is None),
                    ),
                )
                for url, secret in webhooks:
                    conn.execute(
                        "INSERT INTO webhooks (collection, url, secret) VALUES (?, ?, ?)",
                        (name, url, secret),
                    )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"collection {name!r} already exists") from None
        return self.get_collection(name)

    def get_collection(self, name: str) -> Collection:
        validate_collection_name(name)
        found = self._collections("WHERE c.name = ?", (name,))
        if not found:
            raise NotFound(f"collection {name!r} does not exist")
        return found[0]

    def list_collections(self) -> list[Collection]:
        return self._collections("", ())

    def watchlists(self) -> list[Collection]:
        return self._collections("WHERE c.alert_on_match = 1", ())

    def _collections(self, where: str, args: tuple[object, ...]) -> list[Collection]:
        conn = self.db.read()
        rows = conn.execute(
            "SELECT c.name, c.description, c.created_at, c.alert_on_match, c.alert_threshold,"
            " c.model_threshold,"
            " (SELECT COUNT(*) FROM identities i WHERE i.collection = c.name) AS identities,"
            " (SELECT COUNT(*) FROM faces f WHERE f.collection = c.name) AS faces"
            f" FROM collections c {where} ORDER BY c.name",
            args,
        ).fetchall()
        hooks: dict[str, list[Webhook]] = {}
        for h in conn.execute("SELECT * FROM webhooks ORDER BY id"):
            hooks.setdefault(h["collection"], []).append(Webhook(h["id"], h["url"], h["secret"]))
        return [
            Collection(
                r["name"],
                r["description"],
                r["created_at"],
                r["identities"],
                r["faces"],
                bool(r["alert_on_match"]),
                None if r["model_threshold"] else r["alert_threshold"],
                tuple(hooks.get(r["name"], ())),
            )
            for r in rows
        ]

    def update_collection(
        self,
        name: str,
        description: str | None = None,
        alert_on_match: bool | None = None,
        alert_threshold: object = UNCHANGED,
    ) -> Collection:
        """Changes the fields given (`alert_threshold` None: the served model's default)."""
        current = self.get_collection(name)
        if description is not None:
            _check_description(description)
        if alert_threshold is not UNCHANGED:
            _check_threshold(alert_threshold)  # type: ignore[arg-type]
        if alert_on_match is False and current.webhooks:
            raise InvalidArgument(
                "remove the collection's webhooks first: only watchlists raise alerts"
            )
        with self.db.write() as conn:
            if description is not None:
                conn.execute(
                    "UPDATE collections SET description = ? WHERE name = ?", (description, name)
                )
            if alert_on_match is not None:
                conn.execute(
                    "UPDATE collections SET alert_on_match = ? WHERE name = ?",
                    (int(alert_on_match), name),
                )
            if alert_threshold is not UNCHANGED:
                conn.execute(
                    "UPDATE collections SET alert_threshold = ?, model_threshold = ?"
                    " WHERE name = ?",
                    (alert_threshold or 0.0, int(alert_threshold is None), name),
                )
        return self.get_collection(name)

    def add_webhook(self, collection: str, url: str, secret: str) -> Webhook:
        """Adds an endpoint to a watchlist."""
        current = self.get_collection(collection)
        if not current.alert_on_match:
            raise InvalidArgument("webhooks need alert_on_match: only watchlists raise alerts")
        if len(current.webhooks) >= MAX_WEBHOOKS:
            raise InvalidArgument(f"at most {MAX_WEBHOOKS} webhooks per collection")
        validate_webhook(url, secret)
        with self.db.write() as conn:
            cur = conn.execute(
                "INSERT INTO webhooks (collection, url, secret) VALUES (?, ?, ?)",
                (collection, url, secret),
            )
        return Webhook(int(cur.lastrowid), url, secret)

    def delete_webhook(self, collection: str, webhook_id: int) -> None:
        """Removes an endpoint; NotFound when the collection has no such webhook."""
        with self.db.write() as conn:
            gone = conn.execute(
                "DELETE FROM webhooks WHERE collection = ? AND id = ?", (collection, webhook_id)
            ).rowcount
        if not gone:
            raise NotFound(f"collection {collection!r} has no webhook {webhook_id}")
