"""Planning re-embeddings after a model change, on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facerec.compute.dispatch.reembedder import FACES_PER_JOB, PRIORITY, Reembedder
from facerec.compute.domain import JobKind, JobSpec, JobState
from facerec.compute.models.catalog import SFACE, UNTRAINED
from facerec.compute.store import sqlite
from facerec.compute.tasks import CropKind
from tests.store_contract import FACE, IMAGE, enrolment


def _enrol(stores, identity_id: str, model: str, crops: dict) -> int:
    claimed = enrolment(stores.jobs, identity_id)
    vector = np.ones(8, np.float32) / np.sqrt(8)
    _, face = stores.jobs.succeed_enrollment(
        claimed.id, claimed.attempt, FACE, model, vector, 1, crops
    )
    return face.id


def test_only_faces_with_a_usable_crop_are_planned_once(tmp_path: Path) -> None:
    stores = sqlite.open_stores(tmp_path / "facerec.db")
    stores.gallery.create_collection("staff")
    person = stores.gallery.create_identity("staff", "Someone")
    both = {CropKind.BOX_160: b"box", CropKind.ARCFACE_112: b"arc"}
    with_crops = [_enrol(stores, person.id, SFACE.id, both) for _ in range(FACES_PER_JOB + 3)]
    without = _enrol(stores, person.id, SFACE.id, {})
    current = _enrol(stores, person.id, UNTRAINED.id, both)
    woken = []
    planner = Reembedder(stores.jobs, stores.gallery, UNTRAINED, lambda: woken.append(1))

    assert planner.plan() == len(with_crops)
    jobs = stores.jobs.active(JobKind.REEMBED)
    assert [len(j.spec.face_ids) for j in jobs] == [FACES_PER_JOB, 3]
    assert sorted(f for j in jobs for f in j.spec.face_ids) == with_crops
    assert all(j.spec.priority == PRIORITY and j.state is JobState.QUEUED for j in jobs)
    assert woken == [1]
    # A restart plans nothing the queued jobs already cover.
    assert planner.plan() == 0 and len(stores.jobs.active(JobKind.REEMBED)) == 2

    (progress,) = planner.progress()
    assert progress.collection == "staff" and progress.from_models == (SFACE.id,)
    assert (progress.faces_total, progress.faces_done) == (len(with_crops) + 2, 1)
    assert progress.faces_without_crop == 1
    assert without not in with_crops and current not in with_crops
    # A client's job waits behind them: the gallery is re-embedded before it is searched.
    stores.jobs.create(JobKind.RECOGNIZE, JobSpec(priority=9), IMAGE, 10)
    assert stores.jobs.claim("w", 60).kind is JobKind.REEMBED
