"""Recognition over gRPC against a real compute server and the real models."""

from __future__ import annotations

import threading
from pathlib import Path

import grpc
import pytest

from facerec.compute.cli.client import Api
from facerec.v1 import job_pb2
from facerec.v1 import recognition_service_pb2 as rpb
from tests.helpers import enroll_person, new_collection, reason, recognize, rpc_error, spec, unique

SINGLE_PORTRAITS = [
    "angelina_jolie.jpg",
    "kate_siegel.jpg",
    "paul_rudd.jpg",
    "shea_whigham.jpg",
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "obama_partial_face.jpg",
    "32bit.png",
]


def test_multiface_photo_has_six_faces(api: Api, faces: Path) -> None:
    job = recognize(api, faces / "multiface.jpg")
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED, job.error
    assert len(job.faces) == 6
    assert job.image.width == 1200 and job.image.height == 630
    for face in job.faces:
        b = face.box
        assert 0 <= b.x1 < b.x2 <= 1200 and 0 <= b.y1 < b.y2 <= 630
        assert face.score >= 0.9
        assert len(face.landmarks) == 5
    assert job.untrained_model and job.model_id == "facenet-untrained"


@pytest.mark.parametrize("name", SINGLE_PORTRAITS)
def test_each_portrait_has_one_face(api: Api, faces: Path, name: str) -> None:
    job = recognize(api, faces / name)
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED, job.error
    assert len(job.faces) == 1, [f.score for f in job.faces]


def test_enrolled_photo_is_recognised_as_its_identity(api: Api, faces: Path) -> None:
    collection = new_collection(api)
    obama = enroll_person(api, collection, "Barack Obama", faces / "obama.jpg")
    biden = enroll_person(api, collection, "Joe Biden", faces / "biden.jpg")
    job = recognize(api, faces / "obama.jpg", collection=collection, top_k=2, min_similarity=-1.0)
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED
    (face,) = job.faces
    # The untrained embedder only makes identical photos meaningful: the same photo embeds
    # to the same vector (similarity 1), another person's photo to a different one.
    assert face.matches[0].identity_id == obama
    assert face.matches[0].name == "Barack Obama"
    assert face.matches[0].similarity >= 0.99
    assert face.matches[1].identity_id == biden
    assert face.matches[1].similarity < 0.99


def test_watch_job_sends_snapshot_every_change_and_ends(api: Api, faces: Path) -> None:
    job = api.submit(faces / "multiface.jpg", spec())
    events = list(api.watch(job.id))
    types = [e.type for e in events]
    assert types[0] == job_pb2.JOB_EVENT_TYPE_SNAPSHOT
    assert events[-1].job.state == job_pb2.JOB_STATE_SUCCEEDED
    versions_states = [e.job.state for e in events]
    # Every change after the snapshot: running, faces detected, then the final state.
    assert job_pb2.JOB_EVENT_TYPE_FACES_DETECTED in types
    detected = next(e for e in events if e.type == job_pb2.JOB_EVENT_TYPE_FACES_DETECTED)
    assert len(detected.job.faces) == 6 and not detected.job.faces[0].matches
    if events[0].job.state == job_pb2.JOB_STATE_QUEUED:
        assert job_pb2.JOB_STATE_RUNNING in versions_states
    assert sum(1 for s in versions_states if s == job_pb2.JOB_STATE_SUCCEEDED) == 1


def test_watching_a_finished_job_returns_its_final_state_at_once(api: Api, faces: Path) -> None:
    job = recognize(api, faces / "obama2.jpg")
    events = list(api.recognition.WatchJob(rpb.WatchJobRequest(job_id=job.id), timeout=5))
    assert len(events) == 1
    assert events[0].type == job_pb2.JOB_EVENT_TYPE_SNAPSHOT
    assert events[0].job.state == job_pb2.JOB_STATE_SUCCEEDED
    assert len(events[0].job.faces) == 1


def test_same_request_id_returns_the_same_job(api: Api, faces: Path) -> None:
    request_id = unique("req-")
    first = api.submit(faces / "obama.jpg", spec(request_id=request_id))
    second = api.submit(faces / "obama.jpg", spec(request_id=request_id))
    assert first.id == second.id
    api.wait(first.id)
    # The same request id with another photo is a client's mistake, said as such.
    reused = rpc_error(api.submit, faces / "biden.jpg", spec(request_id=request_id))
    assert reused.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason(reused) == "REQUEST_ID_REUSED" and first.id in reused.details()
    listed = api.recognition.ListJobs(rpb.ListJobsRequest(page_size=500), timeout=10).jobs
    assert sum(1 for j in listed if j.spec.request_id == request_id) == 1


def test_get_list_and_cancel(api: Api, faces: Path) -> None:
    missing = rpc_error(api.recognition.GetJob, rpb.GetJobRequest(job_id="job_nope"), timeout=5)
    assert missing.code() == grpc.StatusCode.NOT_FOUND and "job_nope" in missing.details()
    # Low priority and queued behind a high-priority photo, so it is still queued when cancelled.
    api.submit(faces / "shea_whigham.jpg", spec(priority=9))
    queued = api.submit(faces / "paul_rudd.jpg", spec(priority=0))
    cancelled = api.recognition.CancelJob(rpb.CancelJobRequest(job_id=queued.id), timeout=5).job
    assert cancelled.state == job_pb2.JOB_STATE_CANCELLED
    assert api.wait(queued.id).state == job_pb2.JOB_STATE_CANCELLED
    again = rpc_error(api.recognition.CancelJob, rpb.CancelJobRequest(job_id=queued.id), timeout=5)
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    page = api.recognition.ListJobs(
        rpb.ListJobsRequest(states=[job_pb2.JOB_STATE_CANCELLED], page_size=1), timeout=5
    )
    assert [j.state for j in page.jobs] == [job_pb2.JOB_STATE_CANCELLED]
    assert page.jobs[0].id == queued.id


def test_list_jobs_pages_through_everything_once(api: Api, faces: Path) -> None:
    for _ in range(3):
        api.submit(faces / "obama2.jpg", spec())
    seen: list[str] = []
    token = ""
    while True:
        page = api.recognition.ListJobs(
            rpb.ListJobsRequest(page_size=2, page_token=token), timeout=5
        )
        seen += [j.id for j in page.jobs]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 3
    bad = rpc_error(api.recognition.ListJobs, rpb.ListJobsRequest(page_token="!!"), timeout=5)
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_recognize_stream_correlates_many_photos(api: Api, faces: Path) -> None:
    names = ["obama.jpg", "multiface.jpg", "biden.jpg"]

    def requests():
        for n in range(len(names)):
            yield rpb.RecognizeRequest(client_id=f"p{n}", start=rpb.PhotoStart(spec=spec()))
        for n, name in enumerate(names):
            data = (faces / name).read_bytes()
            for i in range(0, len(data), 100_000):
                yield rpb.RecognizeRequest(client_id=f"p{n}", chunk=data[i : i + 100_000])
        for n in range(len(names)):
            yield rpb.RecognizeRequest(client_id=f"p{n}", end=rpb.PhotoEnd())
        yield rpb.RecognizeRequest(client_id="bad", start=rpb.PhotoStart(spec=spec()))
        yield rpb.RecognizeRequest(client_id="bad", chunk=b"not a photo")
        yield rpb.RecognizeRequest(client_id="bad", end=rpb.PhotoEnd())
        # A client id already used in this stream: refused, not a second job.
        yield rpb.RecognizeRequest(client_id="p0", start=rpb.PhotoStart(spec=spec()))

    responses = list(api.recognition.Recognize(requests(), timeout=120))
    reused = [r for r in responses if r.client_id == "p0" and r.WhichOneof("outcome") == "error"]
    assert len(reused) == 1 and "was used for a photo already" in reused[0].error.message
    results = {r.client_id: r for r in responses if r not in reused}
    assert set(results) == {"p0", "p1", "p2", "bad"}
    assert [len(results[f"p{n}"].job.faces) for n in range(3)] == [1, 6, 1]
    assert all(results[f"p{n}"].job.state == job_pb2.JOB_STATE_SUCCEEDED for n in range(3))
    assert results["bad"].WhichOneof("outcome") == "error"
    assert results["bad"].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]


def test_concurrent_submissions_all_finish(api: Api, faces: Path) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def one(name: str) -> None:
        job = api.submit(faces / name, spec())
        with lock:
            ids.append(job.id)

    threads = [threading.Thread(target=one, args=(n,)) for n in ["obama.jpg", "biden.jpg"] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 6
    assert all(api.wait(i).state == job_pb2.JOB_STATE_SUCCEEDED for i in ids)
