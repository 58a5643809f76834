"""Contract tests of the gallery index: search, removal, snapshots checked against the table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerec.index import GalleryIndex


class Table:
    """An in-memory faces table (the index's source of truth in these tests)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[int, np.ndarray]] = {}

    def put(self, collection: str, model: str, face_id: int, vec: np.ndarray) -> None:
        self.rows.setdefault((collection, model), {})[face_id] = vec

    def vectors(self, collection: str, model: str) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows.get((collection, model), {})
        ids = np.array(sorted(rows), dtype=np.int64)
        vecs = np.stack([rows[i] for i in ids]) if len(ids) else np.zeros((0, 0), np.float32)
        return ids, vecs

    def face_ids(self, collection: str, model: str) -> np.ndarray:
        return np.array(sorted(self.rows.get((collection, model), {})), dtype=np.int64)

    def index_keys(self) -> list[tuple[str, str]]:
        return [k for k, v in self.rows.items() if v]


def unit(rng: np.random.Generator, d: int = 512) -> np.ndarray:
    v = rng.normal(size=d).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def table() -> Table:
    rng = np.random.default_rng(7)
    t = Table()
    for fid in range(1, 51):
        t.put("staff", "m1", fid, unit(rng))
    t.put("guests", "m1", 100, unit(rng))
    return t


def test_rebuilds_from_table_and_finds_exact_vector(tmp_path: Path, table: Table) -> None:
    index = GalleryIndex(tmp_path, table)
    assert index.load() == {"loaded": 0, "rebuilt": 2}
    (hits,) = index.search("staff", "m1", table.rows[("staff", "m1")][17], k=3)
    assert hits[0].face_id == 17 and hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert hits[1].similarity < hits[0].similarity
    assert index.search("staff", "other-model", table.rows[("staff", "m1")][17], 3) == [[]]


def test_snapshot_is_reused_only_when_it_matches_the_table(tmp_path: Path, table: Table) -> None:
    index = GalleryIndex(tmp_path, table)
    index.load()
    assert index.snapshot() == 2
    assert GalleryIndex(tmp_path, table).load() == {"loaded": 2, "rebuilt": 0}

    # The table changed behind the snapshot's back (a crash before the next snapshot).
    table.put("staff", "m1", 51, unit(np.random.default_rng(1)))
    again = GalleryIndex(tmp_path, table)
    assert again.load() == {"loaded": 1, "rebuilt": 1}
    (hits,) = again.search("staff", "m1", table.rows[("staff", "m1")][51], k=1)
    assert hits[0].face_id == 51


def test_corrupt_snapshot_is_rebuilt(tmp_path: Path, table: Table) -> None:
    index = GalleryIndex(tmp_path, table)
    index.load()
    index.snapshot()
    for f in tmp_path.glob("*.faiss"):
        f.write_bytes(b"garbage")
    assert GalleryIndex(tmp_path, table).load() == {"loaded": 0, "rebuilt": 2}
    assert not list(tmp_path.glob("*.tmp"))


def test_remove_and_add(tmp_path: Path, table: Table) -> None:
    index = GalleryIndex(tmp_path, table)
    index.load()
    query = table.rows[("staff", "m1")][5]
    assert index.remove("staff", "m1", [5]) == 1
    (hits,) = index.search("staff", "m1", query, k=50)
    assert 5 not in [h.face_id for h in hits]
    index.add("staff", "m1", np.array([5]), query[None, :])
    (hits,) = index.search("staff", "m1", query, k=1)
    assert hits[0].face_id == 5
    index.drop_collection("staff")
    assert index.size("staff", "m1") == 0
    assert index.collections("m1") == ["guests"]


def test_wrong_dimension_is_an_error(tmp_path: Path, table: Table) -> None:
    index = GalleryIndex(tmp_path, table)
    index.load()
    with pytest.raises(ValueError, match="dimensions"):
        index.search("staff", "m1", np.ones(3, dtype=np.float32), k=1)
