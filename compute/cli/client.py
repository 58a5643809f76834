"""A small synchronous client of the gRPC API, used by the CLI and by tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import grpc

from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import gallery_service_pb2_grpc as ggrpc
from facerec.v1 import job_pb2
from facerec.v1 import recognition_service_pb2 as rpb
from facerec.v1 import recognition_service_pb2_grpc as rgrpc
from facerec.v1 import worker_service_pb2_grpc as wgrpc

CHUNK_BYTES = 256 * 1024
DEADLINE = 30.0
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


def chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(CHUNK_BYTES):
            yield block


class Api:
    """Stubs for the services on one channel, with deadlines on unary calls."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.recognition = rgrpc.RecognitionServiceStub(channel)
        self.gallery = ggrpc.GalleryServiceStub(channel)
        self.workers = wgrpc.WorkerServiceStub(channel)

    def submit(self, path: Path, spec: job_pb2.JobSpec) -> job_pb2.Job:
        def requests() -> Iterator[rpb.SubmitJobRequest]:
            yield rpb.SubmitJobRequest(spec=spec)
            for block in chunks(path):
                yield rpb.SubmitJobRequest(chunk=block)

        return self.recognition.SubmitJob(requests(), timeout=DEADLINE).job

    def enroll(self, identity_id: str, photos: list[Path]) -> list[job_pb2.Job]:
        def requests() -> Iterator[gpb.EnrollFacesRequest]:
            yield gpb.EnrollFacesRequest(spec=gpb.EnrollFacesSpec(identity_id=identity_id))
            for photo in photos:
                yield gpb.EnrollFacesRequest(photo_start=gpb.EnrollPhotoStart())
                for block in chunks(photo):
                    yield gpb.EnrollFacesRequest(chunk=block)

        return list(self.gallery.EnrollFaces(requests(), timeout=DEADLINE * 4).jobs)

    def watch(self, job_id: str) -> Iterator[rpb.WatchJobResponse]:
        yield from self.recognition.WatchJob(rpb.WatchJobRequest(job_id=job_id))

    def wait(self, job_id: str) -> job_pb2.Job:
        """Blocks until the job ends; returns it."""
        job = None
        for event in self.watch(job_id):
            job = event.job
        if job is None:  # the server always sends a snapshot first; this is a broken stream
            raise RuntimeError(f"the watch of job {job_id} ended without any event")
        return job

    def ensure_collection(self, name: str) -> None:
        try:
            self.gallery.CreateCollection(gpb.CreateCollectionRequest(name=name), timeout=DEADLINE)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise


@contextlib.contextmanager
def connect(target: str) -> Iterator[Api]:
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    with grpc.insecure_channel(target, options=options) as channel:
        yield Api(channel)


def describe(label: str, job: job_pb2.Job) -> str:
    """A human summary of a finished job."""
    state = job_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
    lines = [f"{label}: {state}, {len(job.faces)} face(s)"]
    if job.untrained_model:
        lines[0] += " [UNTRAINED MODEL: matches are not meaningful]"
    if job.HasField("error"):
        lines.append(f"  error {job.error.code}: {job.error.message}")
    for n, face in enumerate(job.faces, start=1):
        b = face.box
        lines.append(
            f"  face {n}: box=({b.x1:.0f},{b.y1:.0f},{b.x2:.0f},{b.y2:.0f}) score={face.score:.3f}"
        )
        for m in face.matches:
            lines.append(f"    {m.name} ({m.collection}) similarity={m.similarity:.3f}")
        if not face.matches:
            lines.append("    no match")
    return "\n".join(lines)
