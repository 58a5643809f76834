"""Turning a multipart upload into the request stream of SubmitJob or EnrollFaces."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import grpc

from facerec.frontend.errors import ApiError, from_rpc
from facerec.frontend.multipart import FileChunk, FileEnd, FileStart, FormField, Part
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import job_pb2
from facerec.v1 import recognition_service_pb2 as rpb

T = TypeVar("T")
IMAGE_FIELD = "image"


def _number(fields: Mapping[str, str], name: str, kind: type) -> Any:
    raw = fields.get(name, "").strip()
    if raw == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise ApiError(400, "BAD_FIELD", f"{name} must be a number (got {raw!r})") from None


def job_spec(fields: Mapping[str, str]) -> job_pb2.JobSpec:
    """A JobSpec from form fields and query parameters; compute checks the ranges."""
    spec = job_pb2.JobSpec(
        collection=fields.get("collection", "").strip(),
        top_k=_number(fields, "top_k", int) or 0,
        priority=_number(fields, "priority", int) or 0,
        request_id=fields.get("request_id", "").strip(),
    )
    if spec.top_k < 0 or spec.priority < 0:
        raise ApiError(400, "BAD_FIELD", "top_k and priority must not be negative")
    for name in ("min_similarity", "min_detection_score"):
        value = _number(fields, name, float)
        if value is not None:
            setattr(spec, name, value)
    return spec


def _file_chunks(parts: Iterator[Part]) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, FileChunk):
            yield part.data
        elif isinstance(part, FileEnd):
            return


def job_requests(parts: Iterator[Part], fields: dict[str, str]) -> Iterator[rpb.SubmitJobRequest]:
    """Spec (from the fields before the image, plus `fields`), then the image's chunks."""
    for part in parts:
        if isinstance(part, FormField):
            fields.setdefault(part.name, part.value)
        elif isinstance(part, FileStart):
            if part.name != IMAGE_FIELD:
                raise ApiError(400, "UNEXPECTED_FILE", f"unexpected file field {part.name!r}")
            yield rpb.SubmitJobRequest(spec=job_spec(fields))
            for data in _file_chunks(parts):
                yield rpb.SubmitJobRequest(chunk=data)
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


def enroll_requests(parts: Iterator[Part], identity_id: str) -> Iterator[gpb.EnrollFacesRequest]:
    """Spec, then for each `image` file a photo_start and its chunks."""
    yield gpb.EnrollFacesRequest(spec=gpb.EnrollFacesSpec(identity_id=identity_id))
    photos = 0
    for part in parts:
        if isinstance(part, FileStart):
            if part.name != IMAGE_FIELD:
                raise ApiError(400, "UNEXPECTED_FILE", f"unexpected file field {part.name!r}")
            photos += 1
            yield gpb.EnrollFacesRequest(photo_start=gpb.EnrollPhotoStart())
            for data in _file_chunks(parts):
                yield gpb.EnrollFacesRequest(chunk=data)
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
