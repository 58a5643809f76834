"""Every bad input gets a clear status and message, and the server keeps serving."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from pathlib import Path

import grpc
import pytest
from PIL import Image

from facerec.compute.cli.client import Api
from facerec.v1 import job_pb2
from facerec.v1 import recognition_service_pb2 as rpb
from facerec.v1 import recognition_service_pb2_grpc as rgrpc
from tests.conftest import ComputeProcess
from tests.helpers import reason, recognize, rpc_error, spec, submit_bytes, unique


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A small PNG whose header declares a huge image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def still_serving(api: Api, faces: Path) -> None:
    job = recognize(api, faces / "obama2.jpg")
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED and len(job.faces) == 1


def test_empty_stream(api: Api, faces: Path) -> None:
    err = rpc_error(api.recognition.SubmitJob, iter([]), timeout=10)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "empty" in err.details()
    still_serving(api, faces)


def test_chunk_before_spec(api: Api) -> None:
    err = rpc_error(api.recognition.SubmitJob, iter([rpb.SubmitJobRequest(chunk=b"x")]), timeout=10)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "first message" in err.details()


@pytest.mark.parametrize(
    ("label", "make", "code", "why", "words"),
    [
        ("zero bytes", lambda f: b"", "INVALID_ARGUMENT", "PHOTO_EMPTY", "empty"),
        (
            "text file",
            lambda f: b"hello, this is not a photo\n" * 10,
            "INVALID_ARGUMENT",
            "UNSUPPORTED_FORMAT",
            "not a photo",
        ),
        (
            "truncated jpeg",
            lambda f: (f / "obama.jpg").read_bytes()[:20_000],
            "INVALID_ARGUMENT",
            "PHOTO_CORRUPT",
            "truncated",
        ),
        (
            "over the size cap",
            lambda f: b"\xff\xd8" + b"\x00" * (21 * 1024 * 1024),
            "INVALID_ARGUMENT",
            "PHOTO_TOO_LARGE",
            "limit",
        ),
        *(
            (
                f"a {w}x{h} photo",
                lambda f, w=w, h=h: png_of(w, h),
                "INVALID_ARGUMENT",
                "PHOTO_TOO_SMALL",
                f"the photo is {w}x{h} pixels; a face needs at least 12",
            )
            for w, h in ((1, 1), (11, 11), (1, 2000), (2000, 11))
        ),
        (
            "decompression bomb",
            lambda f: bomb_png(),
            "INVALID_ARGUMENT",
            "PHOTO_TOO_MANY_PIXELS",
            "megapixels",
        ),
    ],
)
def test_bad_photos(api: Api, faces: Path, label, make, code, why, words) -> None:
    err = rpc_error(submit_bytes, api, make(faces))
    assert err.code() == getattr(grpc.StatusCode, code), label
    assert reason(err) == why
    assert words in err.details(), err.details()
    still_serving(api, faces)


def png_of(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("size", [(12, 12), (13, 13), (30, 30), (12, 2000)])
def test_photos_smaller_than_the_smallest_face_succeed_with_none(
    api: Api, size: tuple[int, int]
) -> None:
    """Too small for a 40 px face, large enough to look at: no faces, not a crashed worker."""
    done = api.wait(submit_bytes(api, png_of(*size)).id)
    assert done.state == job_pb2.JOB_STATE_SUCCEEDED and done.attempt == 1, done.error
    assert len(done.faces) == 0


def test_unsupported_format(api: Api) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, format="PDF")
    err = rpc_error(submit_bytes, api, buf.getvalue())
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(err) == "UNSUPPORTED_FORMAT"


def test_unknown_collection(api: Api, faces: Path) -> None:
    data = (faces / "obama.jpg").read_bytes()
    err = rpc_error(submit_bytes, api, data, spec(collection="no-such-collection"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-collection" in err.details()
    bad_name = rpc_error(submit_bytes, api, data, spec(collection="Bad Name!"))
    assert bad_name.code() == grpc.StatusCode.INVALID_ARGUMENT
    still_serving(api, faces)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("top_k", 101, "top_k must be between 1 and 100"),
        ("min_similarity", 1.5, "min_similarity"),
        ("min_detection_score", -0.1, "min_detection_score"),
        ("priority", 10, "priority"),
        ("request_id", "r" * 129, "request_id"),
    ],
)
def test_spec_out_of_range(api: Api, faces: Path, field: str, value: object, words: str) -> None:
    err = rpc_error(submit_bytes, api, (faces / "obama.jpg").read_bytes(), spec(**{field: value}))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in err.details()
    still_serving(api, faces)


def test_photo_with_no_face_succeeds_with_none(api: Api) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 160, 200)).save(buf, format="PNG")
    job = submit_bytes(api, buf.getvalue())
    done = api.wait(job.id)
    assert done.state == job_pb2.JOB_STATE_SUCCEEDED
    assert len(done.faces) == 0


def test_asyncio_clients_get_the_real_status_of_an_early_answer(
    compute: ComputeProcess, faces: Path
) -> None:
    """A refused upload is answered after the client has sent it all: grpc.aio clients that
    write message by message otherwise see INTERNAL ("Internal error from Core") instead of
    the server's status when their next write meets the answer (grpc/grpc#36066)."""
    data = (faces / "obama.jpg").read_bytes()

    async def send(stub: rgrpc.RecognitionServiceStub, job_spec: job_pb2.JobSpec) -> str:
        call = stub.SubmitJob(timeout=60, metadata=(("authorization", f"Bearer {compute.key}"),))
        try:
            await call.write(rpb.SubmitJobRequest(spec=job_spec))
            for at in range(0, len(data), 64 * 1024):
                await call.write(rpb.SubmitJobRequest(chunk=data[at : at + 64 * 1024]))
            await call.done_writing()
            return (await call).job.id
        except grpc.aio.AioRpcError as exc:
            return f"{exc.code().name}: {exc.details()}"

    async def run() -> tuple[str, list[set[str]]]:
        async with grpc.aio.insecure_channel(compute.target) as channel:
            stub = rgrpc.RecognitionServiceStub(channel)
            again = spec(request_id=unique("aio"))
            first = await send(stub, again)
            specs = [spec(top_k=500), spec(collection="no-such-collection"), again]
            return first, [{await send(stub, s) for _ in range(15)} for s in specs]

    first, (bad_top_k, unknown, repeated) = asyncio.run(run())
    assert first.startswith("job_")
    assert bad_top_k == {"INVALID_ARGUMENT: top_k must be between 1 and 100 (got 500)"}
    assert unknown == {"NOT_FOUND: collection 'no-such-collection' does not exist"}
    assert repeated == {first}  # the same job, answered before the photo was needed
