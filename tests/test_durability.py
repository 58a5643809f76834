"""Jobs survive a SIGKILL of the compute server: none lost, none run to two results."""

from __future__ import annotations

import time
from pathlib import Path

import grpc

from facerec.compute.cli import client
from facerec.v1 import job_pb2
from facerec.v1 import recognition_service_pb2 as rpb
from tests.conftest import ComputeProcess
from tests.helpers import spec

PHOTOS = {
    "shea_whigham.jpg": 1,
    "paul_rudd.jpg": 1,
    "multiface.jpg": 6,
    "angelina_jolie.jpg": 1,
    "obama3.jpg": 1,
    "biden.jpg": 1,
    "kate_siegel.jpg": 1,
}


def _states(api: client.Api, ids: list[str]) -> dict[str, job_pb2.Job]:
    return {i: api.recognition.GetJob(rpb.GetJobRequest(job_id=i), timeout=10).job for i in ids}


def test_sigkill_with_jobs_queued_and_running(fresh_compute: ComputeProcess, faces: Path) -> None:
    fresh_compute.start()
    with client.connect(fresh_compute.target, fresh_compute.key) as api:
        ids = [api.submit(faces / name, spec()).id for name in PHOTOS]
        expected = dict(zip(ids, PHOTOS.values(), strict=True))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = _states(api, ids)
            running = [j for j in jobs.values() if j.state == job_pb2.JOB_STATE_RUNNING]
            queued = [j for j in jobs.values() if j.state == job_pb2.JOB_STATE_QUEUED]
            if running and len(queued) >= 2:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("never saw one job running with others queued")
        first_results = {i: j for i, j in jobs.items() if j.state == job_pb2.JOB_STATE_SUCCEEDED}
    fresh_compute.kill()
    assert list((fresh_compute.data_dir / "spool").glob("??/*")), "photos must wait on disk"

    fresh_compute.start()
    with client.connect(fresh_compute.target, fresh_compute.key) as api:
        final = {i: api.wait(i) for i in ids}
        for job_id, job in final.items():
            assert job.state == job_pb2.JOB_STATE_SUCCEEDED, (job_id, job.error)
            assert len(job.faces) == expected[job_id]
        interrupted = [j for j in final.values() if j.id in {r.id for r in running}]
        assert interrupted and all(j.attempt == 2 for j in interrupted)
        for job_id, before in first_results.items():
            # A job finished before the kill keeps exactly the result it had.
            assert final[job_id].SerializeToString() == before.SerializeToString()
        listed = api.recognition.ListJobs(rpb.ListJobsRequest(page_size=100), timeout=10).jobs
        assert sorted(j.id for j in listed) == sorted(ids)
    assert not list((fresh_compute.data_dir / "spool").glob("??/*")), "photos kept after jobs"


def test_sigterm_stops_gracefully_and_restart_keeps_the_gallery(
    fresh_compute: ComputeProcess, faces: Path
) -> None:
    from tests.helpers import enroll_person, new_collection, recognize

    fresh_compute.start()
    with client.connect(fresh_compute.target, fresh_compute.key) as api:
        collection = new_collection(api)
        obama = enroll_person(api, collection, "Obama", faces / "obama.jpg")
    assert fresh_compute.terminate() == 0
    assert "facerec compute stopped" in fresh_compute.log()
    assert list((fresh_compute.data_dir / "index").glob("*.faiss"))

    fresh_compute.start()
    assert "1 loaded from snapshots" in fresh_compute.log()
    with client.connect(fresh_compute.target, fresh_compute.key) as api:
        job = recognize(api, faces / "obama.jpg", collection=collection)
        assert job.faces[0].matches[0].identity_id == obama
        err = None
        try:
            api.recognition.GetJob(rpb.GetJobRequest(job_id="job_x"), timeout=5)
        except grpc.RpcError as exc:
            err = exc
        assert err is not None and err.code() == grpc.StatusCode.NOT_FOUND


def test_server_restarts_cost_the_photo_no_attempt(
    fresh_compute: ComputeProcess, faces: Path
) -> None:
    """Three kills of the server while one slow photo runs, with two attempts allowed: the
    photo is not at fault, and its job still succeeds."""
    from tests.helpers import spec

    server = ComputeProcess(fresh_compute.data_dir, "--max-attempts", "2")
    server.start()
    try:
        with client.connect(server.target, server.key) as api:
            job = api.submit(faces / "shea_whigham.jpg", spec(min_face_size=12))
        for kill in range(3):
            with client.connect(server.target, server.key) as api:
                deadline = time.monotonic() + 60
                while True:
                    got = api.recognition.GetJob(rpb.GetJobRequest(job_id=job.id), timeout=10).job
                    if got.state == job_pb2.JOB_STATE_RUNNING and got.attempt == kill + 1:
                        break
                    assert got.state in (job_pb2.JOB_STATE_QUEUED, job_pb2.JOB_STATE_RUNNING), got
                    assert time.monotonic() < deadline, "the job never ran"
                    time.sleep(0.02)
            server.kill()
            server.start()
        with client.connect(server.target, server.key) as api:
            done = api.wait(job.id)
        assert done.state == job_pb2.JOB_STATE_SUCCEEDED, done.error
        assert done.attempt == 4 and len(done.faces) >= 1
    finally:
        server.kill()
