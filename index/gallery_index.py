"""One FAISS index per (collection, model id): a rebuildable cache of the faces table."""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

log = logging.getLogger(__name__)

Key = tuple[str, str]


class FaceSource(Protocol):
    """Where the truth lives (the faces table)."""

    def vectors(self, collection: str, model_id: str) -> tuple[np.ndarray, np.ndarray]: ...

    def face_ids(self, collection: str, model_id: str) -> np.ndarray: ...

    def index_keys(self) -> list[Key]: ...


@dataclass(frozen=True)
class SearchHit:
    """One nearest face: its id and cosine similarity (vectors are L2-normalised)."""

    face_id: int
    similarity: float


def _new_index(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _ids_of(index: faiss.Index) -> np.ndarray:
    return np.sort(faiss.vector_to_array(index.id_map).astype(np.int64))


def _file_name(key: Key) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{key[0]}__{key[1]}")
    return f"{safe}.faiss"


class GalleryIndex:
    """Exact inner-product search over enrolled faces, kept in step with the faces table.

    Snapshots are written atomically (temp file, then `os.replace`). A snapshot whose ids
    differ from the table's is rebuilt from the table, never trusted.
    """

    def __init__(self, snapshot_dir: Path, source: FaceSource) -> None:
        self.snapshot_dir = snapshot_dir
        self.source = source
        self._indexes: dict[Key, faiss.Index] = {}
        self._dirty: set[Key] = set()
        self._lock = threading.RLock()
        snapshot_dir.mkdir(parents=True, exist_ok=True)

    def load(self) -> dict[str, int]:
        """Loads every index from its snapshot or the table; returns counts of each outcome."""
        stats = {"loaded": 0, "rebuilt": 0}
        with self._lock:
            self._indexes.clear()
            for key in self.source.index_keys():
                index = self._read_snapshot(key)
                if index is None:
                    index = self._rebuild(key)
                    stats["rebuilt"] += 1
                else:
                    stats["loaded"] += 1
                self._indexes[key] = index
        log.info("gallery index: %d loaded from snapshots, %d rebuilt", *stats.values())
        return stats

    def _read_snapshot(self, key: Key) -> faiss.Index | None:
        path = self.snapshot_dir / _file_name(key)
        if not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
            table_ids = self.source.face_ids(*key)
            if not np.array_equal(_ids_of(index), table_ids):
                log.warning("snapshot %s does not match the faces table; rebuilding", path.name)
                return None
            return index
        except Exception as exc:  # a corrupt file is a cache miss, not a failure
            log.warning("snapshot %s unreadable (%s); rebuilding", path.name, exc)
            return None

    def _rebuild(self, key: Key) -> faiss.Index:
        ids, vecs = self.source.vectors(*key)
        index = _new_index(vecs.shape[1] if len(ids) else 512)
        if len(ids):
            index.add_with_ids(vecs, ids)
        self._dirty.add(key)
        return index

    def add(self, collection: str, model_id: str, ids: np.ndarray, vecs: np.ndarray) -> None:
        key = (collection, model_id)
        vecs = np.ascontiguousarray(vecs, dtype=np.float32).reshape(len(ids), -1)
        with self._lock:
            index = self._indexes.get(key)
            if index is None or index.d != vecs.shape[1]:
                index = self._indexes[key] = _new_index(vecs.shape[1])
            index.add_with_ids(vecs, np.asarray(ids, dtype=np.int64))
            self._dirty.add(key)

    def remove(self, collection: str, model_id: str, ids: list[int]) -> int:
        key = (collection, model_id)
        with self._lock:
            index = self._indexes.get(key)
            if index is None or not ids:
                return 0
            removed = index.remove_ids(np.asarray(ids, dtype=np.int64))
            self._dirty.add(key)
            return int(removed)

    def drop_collection(self, collection: str) -> None:
        with self._lock:
            for key in [k for k in self._indexes if k[0] == collection]:
                del self._indexes[key]
                self._dirty.discard(key)
                (self.snapshot_dir / _file_name(key)).unlink(missing_ok=True)

    def size(self, collection: str, model_id: str) -> int:
        with self._lock:
            index = self._indexes.get((collection, model_id))
            return 0 if index is None else int(index.ntotal)

    def collections(self, model_id: str) -> list[str]:
        with self._lock:
            return [c for (c, m), idx in self._indexes.items() if m == model_id and idx.ntotal]

    def search(
        self, collection: str, model_id: str, queries: np.ndarray, k: int
    ) -> list[list[SearchHit]]:
        """The k nearest faces of each query (best first); empty lists when nothing is enrolled."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        with self._lock:
            index = self._indexes.get((collection, model_id))
            if index is None or index.ntotal == 0:
                return [[] for _ in range(len(queries))]
            if queries.shape[1] != index.d:
                raise ValueError(f"query has {queries.shape[1]} dimensions, index has {index.d}")
            scores, ids = index.search(queries, min(k, int(index.ntotal)))
        return [
            [SearchHit(int(i), float(s)) for s, i in zip(row_s, row_i, strict=True) if i >= 0]
            for row_s, row_i in zip(scores, ids, strict=True)
        ]

    def snapshot(self) -> int:
        """Writes every changed index atomically; returns how many were written."""
        with self._lock:
            dirty = [(k, self._indexes[k]) for k in self._dirty if k in self._indexes]
            self._dirty.clear()
            for key, index in dirty:
                path = self.snapshot_dir / _file_name(key)
                tmp = path.with_suffix(".tmp")
                faiss.write_index(index, str(tmp))
                os.replace(tmp, path)
        return len(dirty)
