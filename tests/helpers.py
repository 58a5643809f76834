"""Small helpers shared by the integration tests."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from PIL import Image

from facerec.compute.cli import client
from facerec.compute.cli.client import Api
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import job_pb2
from facerec.v1 import recognition_service_pb2 as rpb
from facerec.v1 import worker_service_pb2 as wpb


def unique(prefix: str = "c") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def spec(**kwargs: object) -> job_pb2.JobSpec:
    return job_pb2.JobSpec(**kwargs)


def submit_bytes(
    api: Api, data: bytes, job_spec: job_pb2.JobSpec | None = None, chunk: int = 64 * 1024
) -> job_pb2.Job:
    def requests() -> Iterator[rpb.SubmitJobRequest]:
        yield rpb.SubmitJobRequest(spec=job_spec or spec())
        for i in range(0, len(data), chunk):
            yield rpb.SubmitJobRequest(chunk=data[i : i + chunk])

    return api.recognition.SubmitJob(requests(), timeout=30).job


def recognize(api: Api, path: Path, **kwargs: object) -> job_pb2.Job:
    job = api.submit(path, spec(**kwargs))
    return api.wait(job.id)


def enroll_person(api: Api, collection: str, name: str, photo: Path) -> str:
    """Creates an identity, enrols one photo, waits; returns the identity id."""
    identity = api.gallery.CreateIdentity(
        gpb.CreateIdentityRequest(collection=collection, name=name), timeout=10
    ).identity
    (job,) = api.enroll(identity.id, [photo])
    done = api.wait(job.id)
    assert done.state == job_pb2.JOB_STATE_SUCCEEDED, done.error
    assert done.enrollment.face_id > 0
    return identity.id


def new_collection(api: Api) -> str:
    name = unique()
    api.gallery.CreateCollection(gpb.CreateCollectionRequest(name=name), timeout=10)
    return name


def rpc_error(call, *args, **kwargs) -> grpc.RpcError:
    """Runs a call that must fail; returns its error."""
    with pytest.raises(grpc.RpcError) as info:
        call(*args, **kwargs)
    return info.value


def reason(err: grpc.RpcError) -> str:
    return dict(err.trailing_metadata() or ()).get("facerec-reason", "")


def child_pids(pid: int, word: bytes = b"") -> list[int]:
    """The running children of `pid` with `word` among their arguments, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and (not word or word in cmdline):
            found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def connected(server: object, key: str | None = None) -> Iterator[Api]:
    """A client of a compute server (a started ComputeProcess, with its admin key, or a
    target), once its channel is ready."""
    target = getattr(server, "target", server)
    if key is None:
        key = getattr(server, "key", "")
    with client.connect(str(target), key) as api:
        grpc.channel_ready_future(api.channel).result(timeout=30)
        yield api


def aligned_crops(faces: Path) -> np.ndarray:
    """The aligned test faces, standardised as FaceNet takes them: (n, 3, 160, 160) float32."""
    images = [
        np.asarray(Image.open(p).convert("RGB"), dtype=np.float32).transpose(2, 0, 1)
        for p in sorted((faces / "aligned").glob("*.png"))
    ]
    return (np.stack(images) - 127.5) / 128.0


def aligned_pixels(faces: Path) -> np.ndarray:
    """The same faces as uint8 RGB (n, 160, 160, 3), as EMBED tasks carry them."""
    pixels = np.rint(aligned_crops(faces) * 128.0 + 127.5).clip(0, 255).astype(np.uint8)
    return pixels.transpose(0, 2, 3, 1).copy()


def wait_for_workers(api: Api, count: int, timeout: float = 120.0) -> list[wpb.WorkerInfo]:
    """The connected workers once there are exactly `count`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = api.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=10).workers
        if len(workers) == count:
            return list(workers)
        time.sleep(0.2)
    raise AssertionError(f"{count} workers did not connect in {timeout:.0f} s")
