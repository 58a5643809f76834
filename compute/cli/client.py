"""A small synchronous client of the gRPC API, used by the CLI and by tests."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import grpc

from facerec.compute.config import CLIENT_DOCS, default_data_dir
from facerec.compute.worker.channel import ChannelSecurity, open_channel
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import gallery_service_pb2_grpc as ggrpc
from facerec.v1 import job_pb2, key_service_pb2_grpc
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
        self.keys = key_service_pb2_grpc.KeyServiceStub(channel)

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


ADMIN_KEY_FILE = "admin.key"


def find_key(explicit: str = "", data_dir: Path | None = None) -> str:
    """The API key to use: `explicit`, else FACEREC_API_KEY, else the admin key that a
    server on this machine wrote to its data directory (FACEREC_DATA_DIR or the default)."""
    if explicit:
        return explicit
    if os.environ.get("FACEREC_API_KEY"):
        return os.environ["FACEREC_API_KEY"]
    if data_dir is None:
        env = os.environ.get("FACEREC_DATA_DIR")
        data_dir = Path(env).expanduser() if env else default_data_dir()
    try:
        return (data_dir / ADMIN_KEY_FILE).read_text().strip()
    except OSError:
        return ""


@contextlib.contextmanager
def connect(target: str, security: ChannelSecurity | str | None = None) -> Iterator[Api]:
    """A client of `target`; `security` may be just an API key."""
    if security is None:
        security = ChannelSecurity(find_key())
    elif isinstance(security, str):
        security = ChannelSecurity(security)
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    channel = open_channel(target, security, options)
    try:
        yield Api(channel)
    finally:
        channel.close()


def add_security_flags(p: argparse.ArgumentParser) -> None:
    """--api-key, --data-dir (where to find the admin key) and the TLS client flags."""
    p.add_argument(
        "--api-key",
        default="",
        help="API key [FACEREC_API_KEY; default: the admin.key of --data-dir]",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory of a server on this machine, whose admin.key to use"
        " [FACEREC_DATA_DIR]",
    )
    for name in ("tls_ca", "tls_cert", "tls_key"):
        env = f"FACEREC_{name.upper()}"
        p.add_argument(
            "--" + name.replace("_", "-"),
            type=Path,
            default=Path(os.environ[env]) if os.environ.get(env) else None,
            help=f"{CLIENT_DOCS[name]} [{env}]",
        )


def security(args: argparse.Namespace) -> ChannelSecurity:
    """The channel security the flags ask for."""
    key = find_key(args.api_key, args.data_dir)
    return ChannelSecurity(key, args.tls_ca, args.tls_cert, args.tls_key)


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
