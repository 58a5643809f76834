"""Collections, identities and enrolled faces in SQLite: the source of truth of the index."""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from facerec.compute.domain import (
    FaceCount,
    GalleryFace,
    Identity,
)
from facerec.compute.errors import InvalidArgument, NotFound
from facerec.compute.store.rules import (
    MAX_IDENTITY_NAME,
    validate_collection_name,
)
from facerec.compute.store.sqlite.collection_rows import CollectionRows
from facerec.compute.store.sqlite.database import Database
from facerec.compute.tasks import CropKind


def _face(row: sqlite3.Row) -> GalleryFace:
    return GalleryFace(
        id=row["id"],
        identity_id=row["identity_id"],
        collection=row["collection"],
        model_id=row["model_id"],
        source_job_id=row["source_job_id"],
        created_at=row["created_at"],
    )


class SqliteGalleryStore(CollectionRows):
    """Known people. Vectors live here; the FAISS index is derived from this table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def delete_collection(self, name: str) -> tuple[list[str], list[GalleryFace]]:
        """Deletes a collection; returns the ids of the identities and the faces that went
        with it."""
        validate_collection_name(name)
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM collections WHERE name = ?", (name,)).fetchone() is None:
                raise NotFound(f"collection {name!r} does not exist")
            faces = [
                _face(r) for r in conn.execute("SELECT * FROM faces WHERE collection = ?", (name,))
            ]
            identities = [
                r[0]
                for r in conn.execute("SELECT id FROM identities WHERE collection = ?", (name,))
            ]
            conn.execute("DELETE FROM faces WHERE collection = ?", (name,))
            conn.execute("DELETE FROM identities WHERE collection = ?", (name,))
            conn.execute("DELETE FROM collections WHERE name = ?", (name,))
        return identities, faces

    # Identities

    def create_identity(self, collection: str, name: str) -> Identity:
        self.get_collection(collection)
        name = name.strip()
        if not name or len(name) > MAX_IDENTITY_NAME:
            raise InvalidArgument(f"identity name must be 1-{MAX_IDENTITY_NAME} characters")
        identity = Identity(
            id="idn_" + secrets.token_hex(10),
            collection=collection,
            name=name,
            created_at=time.time(),
        )
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO identities (id, collection, name, created_at) VALUES (?, ?, ?, ?)",
                    (identity.id, collection, name, identity.created_at),
                )
        except sqlite3.IntegrityError:
            raise NotFound(f"collection {collection!r} does not exist") from None
        return identity

    def get_identity(self, identity_id: str) -> Identity:
        conn = self.db.read()
        row = conn.execute("SELECT * FROM identities WHERE id = ?", (identity_id,)).fetchone()
        if row is None:
            raise NotFound(f"identity {identity_id!r} does not exist")
        faces = tuple(
            _face(r)
            for r in conn.execute(
                "SELECT * FROM faces WHERE identity_id = ? ORDER BY id", (identity_id,)
            )
        )
        return Identity(
            row["id"], row["collection"], row["name"], row["created_at"], len(faces), faces
        )

    def list_identities(
        self, collection: str, page_size: int, after: tuple[str, str] | None
    ) -> tuple[list[Identity], tuple[str, str] | None]:
        self.get_collection(collection)
        sql = (
            "SELECT i.*, (SELECT COUNT(*) FROM faces f WHERE f.identity_id = i.id) AS n"
            " FROM identities i WHERE i.collection = ?"
        )
        args: list[object] = [collection]
        if after is not None:
            sql += " AND (i.name > ? OR (i.name = ? AND i.id > ?))"
            args += [after[0], after[0], after[1]]
        sql += " ORDER BY i.name, i.id LIMIT ?"
        args.append(page_size + 1)
        rows = self.db.read().execute(sql, args).fetchall()
        out = [
            Identity(r["id"], r["collection"], r["name"], r["created_at"], r["n"])
            for r in rows[:page_size]
        ]
        cursor = (out[-1].name, out[-1].id) if len(rows) > page_size else None
        return out, cursor

    def delete_identity(self, identity_id: str) -> list[GalleryFace]:
        """Deletes an identity and its faces; returns the faces so their vectors can go too."""
        with self.db.write() as conn:
            if (
                conn.execute("SELECT 1 FROM identities WHERE id = ?", (identity_id,)).fetchone()
                is None
            ):
                raise NotFound(f"identity {identity_id!r} does not exist")
            faces = [
                _face(r)
                for r in conn.execute("SELECT * FROM faces WHERE identity_id = ?", (identity_id,))
            ]
            conn.execute("DELETE FROM faces WHERE identity_id = ?", (identity_id,))
            conn.execute("DELETE FROM identities WHERE id = ?", (identity_id,))
        return faces

    # Faces

    def delete_face(self, face_id: int) -> GalleryFace:
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM faces WHERE id = ?", (face_id,)).fetchone()
            if row is None:
                raise NotFound(f"face {face_id} does not exist")
            conn.execute("DELETE FROM faces WHERE id = ?", (face_id,))
        return _face(row)

    def purge(self) -> None:
        """Leaves no copy of deleted rows in the database files (secure_delete is on; the
        WAL is checkpointed and truncated)."""
        self.db.checkpoint()

    def face_crops(self, face_ids: list[int], kind: CropKind) -> dict[int, bytes]:
        """face id -> stored PNG crop of `kind`, for the faces that have one."""
        if not face_ids:
            return {}
        rows = (
            self.db.read()
            .execute(
                f"SELECT face_id, png FROM face_crops WHERE kind = ? AND face_id IN"
                f" ({','.join('?' * len(face_ids))})",
                [int(kind), *face_ids],
            )
            .fetchall()
        )
        return {r[0]: bytes(r[1]) for r in rows}

    def to_reembed(self, model_id: str, kind: CropKind) -> dict[str, list[int]]:
        """collection -> ids of faces embedded by other models that have a crop of `kind`."""
        rows = (
            self.db.read()
            .execute(
                "SELECT f.collection, f.id FROM faces f JOIN face_crops c ON c.face_id = f.id"
                " WHERE f.model_id != ? AND c.kind = ? ORDER BY f.collection, f.id",
                (model_id, int(kind)),
            )
            .fetchall()
        )
        found: dict[str, list[int]] = {}
        for collection, face_id in rows:
            found.setdefault(collection, []).append(face_id)
        return found

    def face_counts(self, kind: CropKind) -> list[FaceCount]:
        """Faces per (collection, model), and how many of them have a crop of `kind`."""
        rows = (
            self.db.read()
            .execute(
                "SELECT f.collection, f.model_id, COUNT(*),"
                " SUM(EXISTS (SELECT 1 FROM face_crops c WHERE c.face_id = f.id AND c.kind = ?))"
                " FROM faces f GROUP BY f.collection, f.model_id ORDER BY 1, 2",
                (int(kind),),
            )
            .fetchall()
        )
        return [FaceCount(r[0], r[1], r[2], r[3]) for r in rows]

    def vectors(self, collection: str, model_id: str) -> tuple[np.ndarray, np.ndarray]:
        """All face ids (int64) and vectors (float32, n x d) of one (collection, model)."""
        rows = (
            self.db.read()
            .execute(
                "SELECT id, embedding FROM faces WHERE collection = ? AND model_id = ? ORDER BY id",
                (collection, model_id),
            )
            .fetchall()
        )
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        vecs = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return ids, vecs

    def face_ids(self, collection: str, model_id: str) -> np.ndarray:
        rows = (
            self.db.read()
            .execute(
                "SELECT id FROM faces WHERE collection = ? AND model_id = ? ORDER BY id",
                (collection, model_id),
            )
            .fetchall()
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def index_keys(self) -> list[tuple[str, str]]:
        """Every (collection, model id) that has faces."""
        rows = (
            self.db.read()
            .execute(
                "SELECT DISTINCT collection, model_id FROM faces ORDER BY collection, model_id"
            )
            .fetchall()
        )
        return [(r[0], r[1]) for r in rows]

    def models_of(self, collection: str) -> set[str]:
        rows = (
            self.db.read()
            .execute("SELECT DISTINCT model_id FROM faces WHERE collection = ?", (collection,))
            .fetchall()
        )
        return {r[0] for r in rows}

    def owners(self, face_ids: list[int]) -> dict[int, tuple[str, str, str]]:
        """face id → (identity id, identity name, collection) for faces that still exist."""
        if not face_ids:
            return {}
        rows = (
            self.db.read()
            .execute(
                "SELECT f.id, i.id AS identity_id, i.name, i.collection FROM faces f"
                " JOIN identities i ON i.id = f.identity_id"
                f" WHERE f.id IN ({','.join('?' * len(face_ids))})",
                face_ids,
            )
            .fetchall()
        )
        return {r["id"]: (r["identity_id"], r["name"], r["collection"]) for r in rows}


def insert_face(
    conn: sqlite3.Connection,
    identity_id: str,
    model_id: str,
    embedding: np.ndarray,
    source_job_id: str,
    crops: Mapping[CropKind, bytes],
) -> GalleryFace:
    """Inserts a face and its PNG crops inside the caller's transaction (the enrolment
    job's result)."""
    row = conn.execute("SELECT collection FROM identities WHERE id = ?", (identity_id,)).fetchone()
    if row is None:
        raise NotFound(f"identity {identity_id!r} was deleted before its face was enrolled")
    now = time.time()
    vector = np.ascontiguousarray(embedding, dtype=np.float32)
    cur = conn.execute(
        "INSERT INTO faces (identity_id, collection, model_id, embedding, source_job_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (identity_id, row["collection"], model_id, vector.tobytes(), source_job_id, now),
    )
    conn.executemany(
        "INSERT INTO face_crops (face_id, kind, png) VALUES (?, ?, ?)",
        [(cur.lastrowid, int(kind), png) for kind, png in crops.items()],
    )
    return GalleryFace(cur.lastrowid, identity_id, row["collection"], model_id, source_job_id, now)


def update_embeddings(
    conn: sqlite3.Connection, face_ids: tuple[int, ...], model_id: str, vectors: np.ndarray
) -> list[tuple[GalleryFace, GalleryFace]]:
    """Inside the caller's transaction: gives faces that still exist new embeddings of
    `model_id`; returns (before, after) of each."""
    moved = []
    for face_id, vector in zip(face_ids, vectors, strict=True):
        row = conn.execute("SELECT * FROM faces WHERE id = ?", (face_id,)).fetchone()
        if row is None:
            continue
        blob = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
        conn.execute(
            "UPDATE faces SET model_id = ?, embedding = ? WHERE id = ?", (model_id, blob, face_id)
        )
        before = _face(row)
        moved.append((before, replace(before, model_id=model_id)))
    return moved
