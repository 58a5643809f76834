"""Turning a multipart upload into the pieces of a SubmitJob or EnrollFaces stream.

The pieces are plain values; the compute client turns them into messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from facerec.frontend.errors import INT32, ApiError, from_rpc
from facerec.frontend.multipart import FileChunk, FileEnd, FileStart, FormField, Part

T = TypeVar("T")
IMAGE_FIELD = "image"


def _number(fields: Mapping[str, str], name: str, kind: type) -> Any:
    raw = fields.get(name, "").strip()
    if raw == "":
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ApiError(400, "BAD_FIELD", f"{name} must be a number (got {raw!r})") from None
    if kind is int and not INT32[0] <= value <= INT32[1]:
        raise ApiError(400, "BAD_FIELD", f"{name} is out of range (got {raw})")
    return value


@dataclass(frozen=True)
class UploadSpec:
    """What the form asked of a job; compute checks the ranges."""

    collection: str = ""
    top_k: int = 0
    priority: int = 0
    request_id: str = ""
    min_similarity: float | None = None
    min_detection_score: float | None = None
    min_face_size: int | None = None


@dataclass(frozen=True)
class NewPhoto:
    """Marks the start of the next photo of an enrolment."""


Piece = UploadSpec | NewPhoto | bytes


def job_spec(fields: Mapping[str, str]) -> UploadSpec:
    """An UploadSpec from form fields and query parameters."""
    spec = UploadSpec(
        collection=fields.get("collection", "").strip(),
        top_k=_number(fields, "top_k", int) or 0,
        priority=_number(fields, "priority", int) or 0,
        request_id=fields.get("request_id", "").strip(),
        min_similarity=_number(fields, "min_similarity", float),
        min_detection_score=_number(fields, "min_detection_score", float),
        min_face_size=_number(fields, "min_face_size", int),
    )
    for name in ("top_k", "priority", "min_face_size"):
        if (getattr(spec, name) or 0) < 0:
            raise ApiError(400, "BAD_FIELD", f"{name} must not be negative")
    if fields.get("top_k", "").strip() and spec.top_k == 0:
        raise ApiError(400, "BAD_FIELD", "top_k must be at least 1 (leave it out for the default)")
    return spec


def _file_chunks(parts: Iterator[Part]) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, FileChunk):
            yield part.data
        elif isinstance(part, FileEnd):
            return


def _last_held_back(pieces: Iterator[Piece]) -> Iterator[Piece]:
    """Yields every piece but the last until `pieces` ends without an error.

    Compute queues a job when the stream ends, and a stream that gRPC cancels may look
    ended to it. Holding back the photo's last bytes until the whole body has been checked
    means an upload refused late (a field after the image, say) arrives incomplete, and an
    incomplete photo is never queued.
    """
    held: Piece | None = None
    for piece in pieces:
        if held is not None:
            yield held
        held = piece
    if held is not None:
        yield held


def job_pieces(parts: Iterator[Part], fields: dict[str, str]) -> Iterator[Piece]:
    """Spec (from the fields before the image, plus `fields`), then the image's chunks."""
    return _last_held_back(_job_pieces(parts, fields))


def enroll_pieces(parts: Iterator[Part]) -> Iterator[Piece]:
    """For each `image` file a NewPhoto and its chunks."""
    return _last_held_back(_enroll_pieces(parts))


def _job_pieces(parts: Iterator[Part], fields: dict[str, str]) -> Iterator[Piece]:
    for part in parts:
        if isinstance(part, FormField):
            fields.setdefault(part.name, part.value)
        elif isinstance(part, FileStart):
            if part.name != IMAGE_FIELD:
                raise ApiError(400, "UNEXPECTED_FILE", f"unexpected file field {part.name!r}")
            yield job_spec(fields)
            yield from _file_chunks(parts)
            # The job is queued only when this stream ends: anything after the image
            # would be silently lost, so it cancels the upload instead.
            for rest in parts:
                if isinstance(rest, FormField):
                    raise ApiError(
                        400,
                        "FIELD_AFTER_IMAGE",
                        f"field {rest.name!r} came after the image; send fields first (or in"
                        " the query string)",
                    )
                if isinstance(rest, FileStart):
                    raise ApiError(400, "ONE_IMAGE_PER_JOB", "send one image per job")
            return
    raise ApiError(400, "IMAGE_REQUIRED", "the multipart field 'image' with a photo is required")


def _enroll_pieces(parts: Iterator[Part]) -> Iterator[Piece]:
    photos = 0
    for part in parts:
        if isinstance(part, FileStart):
            if part.name != IMAGE_FIELD:
                raise ApiError(400, "UNEXPECTED_FILE", f"unexpected file field {part.name!r}")
            photos += 1
            yield NewPhoto()
            yield from _file_chunks(parts)
    if not photos:
        raise ApiError(400, "IMAGE_REQUIRED", "send one or more photos in 'image' fields")


def call_streaming(
    call: Callable[[Iterator[Any]], T], requests: Iterator[Any], retry_after: int
) -> T:
    """Runs a client-streaming call; an error raised while reading the upload wins over the
    CANCELLED status that gRPC reports for it."""
    failure: list[BaseException] = []

    def guarded() -> Iterator[Any]:
        try:
            yield from requests
        except BaseException as exc:
            failure.append(exc)
            raise

    try:
        return call(guarded())
    except grpc.RpcError as exc:
        if failure:
            raise failure[0] from None
        raise from_rpc(exc, retry_after) from None
