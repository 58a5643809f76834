"""Remote workers over WorkerService: Python and Node.js, leases, crashes, batching."""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from facerec.compute.cli import client
from facerec.v1 import job_pb2
from facerec.v1 import recognition_service_pb2 as rpb
from facerec.v1 import worker_service_pb2 as wpb
from facerec.v1 import worker_service_pb2_grpc as wgrpc
from tests.conftest import ChildProcess, ComputeProcess, WorkerProcess, free_port
from tests.helpers import enroll_person, new_collection, recognize, spec, submit_bytes
from tests.poison_worker import MARKER

SUCCEEDED = job_pb2.JOB_STATE_SUCCEEDED


def _coordinator(tmp_path: Path, started: list[ChildProcess], *extra: str) -> ComputeProcess:
    """A compute server without models; killed with the test's workers."""
    coordinator = ComputeProcess(tmp_path / "data", "--no-local-worker", *extra).start()
    started.append(coordinator)
    return coordinator


def _listing(api: client.Api) -> wpb.ListWorkersResponse:
    stub = wgrpc.WorkerServiceStub(api.channel)
    return stub.ListWorkers(wpb.ListWorkersRequest(), timeout=10)


def _wait_for(check, timeout: float = 60.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _wait_until_holding(api: client.Api) -> None:
    _wait_for(
        lambda: any(w.tasks_in_flight for w in _listing(api).workers),
        what="a worker to hold a task",
    )


@contextlib.contextmanager
def _busy_worker(
    tmp_path: Path, faces: Path, workers: list[ChildProcess], name: str, jobs: int
) -> Iterator[tuple[ComputeProcess, WorkerProcess, client.Api, list[str]]]:
    """A coordinator and one Python worker holding the first of `jobs` large-photo jobs."""
    coordinator = _coordinator(tmp_path, workers)
    worker = WorkerProcess.python(tmp_path, coordinator, name)
    workers.append(worker.start())
    with client.connect(coordinator.target, coordinator.key) as api:
        ids = [api.submit(faces / "shea_whigham.jpg", spec()).id for _ in range(jobs)]
        _wait_until_holding(api)
        yield coordinator, worker, api, ids


class RawWorker:
    """A worker spoken by hand over the real protocol, for what real workers never do."""

    def __init__(self, server: ComputeProcess, *capabilities: str) -> None:
        self.channel = grpc.insecure_channel(server.target)
        metadata = (("authorization", f"Bearer {server.worker_key}"),)
        self.outbox: queue.SimpleQueue[wpb.WorkRequest | None] = queue.SimpleQueue()
        hello = wpb.WorkerHello(worker_id="raw", capabilities=capabilities, max_tasks=1)
        self.outbox.put(wpb.WorkRequest(hello=hello))
        self.call = wgrpc.WorkerServiceStub(self.channel).Work(self._requests(), metadata=metadata)

    def _requests(self) -> Iterator[wpb.WorkRequest]:
        while (msg := self.outbox.get()) is not None:
            yield msg

    def next(self) -> wpb.WorkResponse:
        return next(self.call)

    def close(self) -> None:
        self.outbox.put(None)
        self.call.cancel()
        self.channel.close()


def test_python_detects_node_embeds_and_galleries_are_shared(
    tmp_path: Path, faces: Path, workers: list[ChildProcess], onnx_export: tuple[Path, str]
) -> None:
    coordinator = _coordinator(tmp_path, workers)
    full = WorkerProcess.python(tmp_path, coordinator, "py-full")
    workers.append(full.start())
    with client.connect(coordinator.target, coordinator.key) as api:
        people = new_collection(api)
        obama = enroll_person(api, people, "Barack Obama", faces / "obama.jpg")
        enroll_person(api, people, "Joe Biden", faces / "biden.jpg")
        assert full.terminate() == 0

        detect = WorkerProcess.python(
            tmp_path, coordinator, "py-detect", "--capabilities", "detect"
        )
        node = WorkerProcess.node(tmp_path, coordinator, "node-embed", onnx_export[0])
        workers += [detect.start(), node.start()]
        listing = _listing(api)
        caps = {w.worker_id: list(w.capabilities) for w in listing.workers}
        want = {"py-detect": ["detect:mtcnn"], "node-embed": ["embed:facenet-untrained"]}
        assert caps == want

        job = recognize(api, faces / "obama.jpg", collection=people)
        assert job.state == SUCCEEDED, job.error
        (face,) = job.faces
        best = face.matches[0]
        # The gallery face was embedded by PyTorch, this one by ONNX Runtime in Node.
        assert best.identity_id == obama
        assert best.similarity >= 0.999, best.similarity
        assert all(m.similarity < 0.99 for m in face.matches[1:])

        group = recognize(api, faces / "multiface.jpg", collection=people)
        assert group.state == SUCCEEDED and len(group.faces) == 6
        done = {w.worker_id: w.tasks_done for w in _listing(api).workers}
        assert done["node-embed"] >= 2 and done["py-detect"] >= 2, done


def test_sigkilled_worker_task_goes_to_another(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    with _busy_worker(tmp_path, faces, workers, "first", 3) as (coordinator, first, api, ids):
        first.kill()
        second = WorkerProcess.python(tmp_path, coordinator, "second")
        workers.append(second.start())
        jobs = [api.wait(i) for i in ids]
        assert [j.state for j in jobs] == [SUCCEEDED] * 3, [j.error for j in jobs]
        assert [len(j.faces) for j in jobs] == [1, 1, 1]
        assert max(j.attempt for j in jobs) == 2
        assert "WORKER_LOST" in coordinator.log()


def test_silent_worker_loses_its_lease_and_its_late_result_is_rejected(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    coordinator = _coordinator(tmp_path, workers, "--lease-seconds", "2")
    raw = RawWorker(coordinator, "detect:mtcnn")
    try:
        assert raw.next().WhichOneof("message") == "started"
        with client.connect(coordinator.target, coordinator.key) as api:
            job = api.submit(faces / "obama.jpg", spec())
            task = raw.next().task
            assert task.kind == wpb.TASK_KIND_DETECT and task.attempt == 1
            assert task.detect.photo == (faces / "obama.jpg").read_bytes()
            # No heartbeat: after 2 s the task goes back, and a real worker takes it.
            workers.append(WorkerProcess.python(tmp_path, coordinator, "real").start())
            done = api.wait(job.id)
            assert done.state == SUCCEEDED and done.attempt == 2 and len(done.faces) == 1
            assert raw.next().cancel.task_id == task.task_id

            bogus = wpb.TaskResult(task_id=task.task_id, attempt=task.attempt)
            for n in range(3):
                bogus.detect.faces.add(score=0.99).box.x2 = n + 1
            raw.outbox.put(wpb.WorkRequest(result=bogus))
            _wait_for(lambda: "lease not held" in coordinator.log(), what="the rejection")
            again = api.recognition.GetJob(rpb.GetJobRequest(job_id=job.id), timeout=10).job
            assert again == done
            assert "LEASE_EXPIRED" in coordinator.log()
    finally:
        raw.close()


def _poisoned(photo: bytes) -> bytes:
    """The JPEG with the marker in a comment segment: still a valid, complete JPEG."""
    segment = b"\xff\xfe" + (len(MARKER) + 2).to_bytes(2, "big") + MARKER
    return photo[:2] + segment + photo[2:]


def test_poison_photo_fails_after_the_attempt_limit(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    coordinator = _coordinator(tmp_path, workers, "--max-attempts", "3")
    poison_worker = WorkerProcess(
        tmp_path,
        [
            sys.executable,
            "-m",
            "tests.poison_worker",
            "--coordinator",
            coordinator.target,
            "--worker-id",
            "crashy",
            "--allow-untrained",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        "crashy",
        coordinator.worker_key,
    )
    workers.append(poison_worker)
    stop = threading.Event()

    def supervise() -> None:  # restarts the worker when it dies, as systemd or docker would
        while not stop.is_set():
            if poison_worker.proc is None or poison_worker.proc.poll() is not None:
                poison_worker.launch()
            time.sleep(0.2)

    supervisor = threading.Thread(target=supervise, daemon=True)
    supervisor.start()
    try:
        with client.connect(coordinator.target, coordinator.key) as api:
            bad = submit_bytes(api, _poisoned((faces / "obama.jpg").read_bytes()))
            good = api.submit(faces / "biden.jpg", spec())
            failed = api.wait(bad.id)
            assert failed.state == job_pb2.JOB_STATE_FAILED
            assert failed.attempt == 3
            assert failed.error.code == "ATTEMPTS_EXHAUSTED"
            assert "WORKER_LOST" in failed.error.message
            # Whose fault: the worker's, and the message says the photo is not to blame.
            assert failed.error.fault == job_pb2.JOB_FAULT_WORKER
            assert "cut short by a worker, not by the photo" in failed.error.message
            finished = api.wait(good.id)
            assert finished.state == SUCCEEDED and len(finished.faces) == 1
            assert poison_worker.starts >= 4
    finally:
        stop.set()
        supervisor.join(5)


def test_hellos_the_coordinator_cannot_serve_are_refused(
    compute: ComputeProcess, tmp_path: Path
) -> None:
    cases = {
        ("embed:facenet-vggface2",): (grpc.StatusCode.FAILED_PRECONDITION, "facenet-untrained"),
        ("detect:retinaface",): (grpc.StatusCode.INVALID_ARGUMENT, "unknown capability"),
        (): (grpc.StatusCode.INVALID_ARGUMENT, "must offer"),
    }
    for caps, (code, words) in cases.items():
        raw = RawWorker(compute, *caps)
        try:
            with pytest.raises(grpc.RpcError) as info:
                raw.next()
            assert info.value.code() == code, caps
            assert words in info.value.details(), info.value.details()
        finally:
            raw.close()

    # A second hello in the same stream ends it.
    raw = RawWorker(compute, "detect:mtcnn")
    try:
        assert raw.next().WhichOneof("message") == "started"
        raw.outbox.put(wpb.WorkRequest(hello=wpb.WorkerHello(worker_id="again", max_tasks=1)))
        with pytest.raises(grpc.RpcError) as info:
            while True:
                raw.next()
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "a second hello" in info.value.details()
    finally:
        raw.close()

    refused = WorkerProcess.python(
        tmp_path, compute, "wrong-model", "--capabilities", "embed:facenet-vggface2"
    ).launch()
    assert refused.proc is not None and refused.proc.wait(120) == 2
    assert "FaceNet vggface2 weights are not available" in refused.log()


def test_embed_batches_mix_jobs(fresh_compute: ComputeProcess, faces: Path) -> None:
    fresh_compute.extra = ("--workers", "2", "--max-queue-delay-ms", "5")
    fresh_compute.start()
    photos = sorted(p for p in faces.glob("*.jpg") if p.name != "multiface.jpg")
    with client.connect(fresh_compute.target, fresh_compute.key) as api:
        ids = [api.submit(photos[n % len(photos)], spec()).id for n in range(20)]
        jobs = [api.wait(i) for i in ids]
        assert all(j.state == SUCCEEDED for j in jobs), [j.error for j in jobs if j.error.code]
        listing = _listing(api)
    sizes = {b.batch_size: b.count for b in listing.embed_batch_sizes}
    crops = sum(len(j.faces) for j in jobs)
    assert sum(size * count for size, count in sizes.items()) == crops
    assert max(sizes) > 1, sizes
    assert listing.embed_batches_across_jobs >= 1, sizes
    print("EMBED batch sizes:", dict(sorted(sizes.items())))
    # The worker reports where its time went, and every crop it embedded.
    (worker,) = listing.workers
    assert worker.crops_embedded == crops
    assert set(worker.stage_seconds) == {"decode", "detect", "crop", "embed"}
    assert worker.stage_seconds["detect"] > worker.stage_seconds["crop"] > 0

    shown = subprocess.run(
        [sys.executable, "-m", "facerec.compute.cli", "workers", "--target", fresh_compute.target],
        env={**os.environ, "FACEREC_API_KEY": fresh_compute.key},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "local/" in shown.stdout and "detect:mtcnn,embed:facenet-untrained" in shown.stdout
    assert f"done {listing.workers[0].tasks_done}" in shown.stdout
    assert f"{listing.embed_batches_across_jobs} mixed several jobs" in shown.stdout
    assert f"{crops} crops embedded" in shown.stdout and "detect " in shown.stdout


def test_cancelling_a_job_withdraws_its_task(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    coordinator = _coordinator(tmp_path, workers)
    raw = RawWorker(coordinator, "detect:mtcnn")
    try:
        assert raw.next().WhichOneof("message") == "started"
        with client.connect(coordinator.target, coordinator.key) as api:
            job = api.submit(faces / "obama.jpg", spec())
            task = raw.next().task
            api.recognition.CancelJob(rpb.CancelJobRequest(job_id=job.id), timeout=10)
            assert raw.next().cancel.task_id == task.task_id
            # The worker's answer after the cancel is discarded; the job stays cancelled.
            failure = wpb.TaskFailure(task_id=task.task_id, attempt=task.attempt, code="CANCELLED")
            raw.outbox.put(wpb.WorkRequest(failure=failure))
            later = api.submit(faces / "biden.jpg", spec())
            assert raw.next().task.attempt == 1  # the slot is free again
            got = api.recognition.GetJob(rpb.GetJobRequest(job_id=job.id), timeout=10).job
            assert got.state == job_pb2.JOB_STATE_CANCELLED
            assert later.state == job_pb2.JOB_STATE_QUEUED
    finally:
        raw.close()


def test_workers_reconnect_when_the_coordinator_restarts(
    tmp_path: Path, faces: Path, workers: list[ChildProcess], onnx_export: tuple[Path, str]
) -> None:
    port = str(free_port())
    coordinator = ComputeProcess(tmp_path / "data", "--no-local-worker", "--grpc-port", port)
    workers.append(coordinator.start())
    python = WorkerProcess.python(tmp_path, coordinator, "py", "--capabilities", "detect")
    node = WorkerProcess.node(tmp_path, coordinator, "node", onnx_export[0])
    workers += [python.start(), node.start()]
    coordinator.kill()
    coordinator.start()
    for worker in (python, node):
        _wait_for(lambda w=worker: w.log().count("connected to") >= 2, what="the reconnection")
        assert "reconnecting" in worker.log()
        assert worker.proc is not None and worker.proc.poll() is None
    with client.connect(coordinator.target, coordinator.key) as api:
        job = recognize(api, faces / "obama.jpg")
        assert job.state == SUCCEEDED and len(job.faces) == 1


def test_a_photo_gone_from_the_spool_fails_the_job(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    coordinator = _coordinator(tmp_path, workers)
    with client.connect(coordinator.target, coordinator.key) as api:
        job = api.submit(faces / "obama.jpg", spec())
        sha = hashlib.sha256((faces / "obama.jpg").read_bytes()).hexdigest()
        (spooled,) = (tmp_path / "data" / "spool").glob(f"*/{sha}*")
        spooled.unlink()
        workers.append(WorkerProcess.python(tmp_path, coordinator, "w").start())
        done = api.wait(job.id)
        assert done.state == job_pb2.JOB_STATE_FAILED
        assert done.error.code == "PHOTO_MISSING" and "spool" in done.error.message
        assert recognize(api, faces / "biden.jpg").state == SUCCEEDED


def test_a_stopping_worker_finishes_its_task_and_takes_no_more(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    with _busy_worker(tmp_path, faces, workers, "leaving", 2) as (coordinator, first, api, ids):
        assert first.terminate(timeout=60) == 0  # SIGTERM: drain, then leave
        assert "draining" in first.log() and "is draining" in coordinator.log()
        states = [api.recognition.GetJob(rpb.GetJobRequest(job_id=i), timeout=10).job for i in ids]
        # The DETECT task in hand was finished and stored (its EMBED waits for a worker,
        # since the leaving one takes nothing new).
        assert states[0].state == job_pb2.JOB_STATE_RUNNING and len(states[0].faces) == 1
        workers.append(WorkerProcess.python(tmp_path, coordinator, "next").start())
        done = [api.wait(i) for i in ids]
        # No attempt was lost to the shutdown.
        assert [(j.state, j.attempt, len(j.faces)) for j in done] == [(SUCCEEDED, 1, 1)] * 2
