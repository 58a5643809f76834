"""Receiving photo bytes from request streams into the spool."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from facerec.compute import domain as d
from facerec.compute.dispatch.submitter import Submitter
from facerec.compute.errors import AlreadyExists, FacerecError, InvalidArgument
from facerec.compute.store.spool import Upload

T = TypeVar("T")


async def first_message(stream: AsyncIterator[Any], expected: str) -> Any:
    """The first message of a client stream, which must carry `expected`."""
    first = await anext(stream, None)
    if first is None:
        raise InvalidArgument(f"the request stream was empty; send {expected} first")
    if first.WhichOneof("payload") != expected:
        raise InvalidArgument(f"the first message must carry {expected}")
    return first


async def receive_photo(
    stream: AsyncIterator[Any], upload: Upload, stop_at: Callable[[Any], bool] | None = None
) -> Any:
    """Writes `chunk` messages into `upload` until the stream ends or `stop_at(msg)`.

    Returns the message that stopped it (None at the end of the stream).
    """
    async for msg in stream:
        kind = msg.WhichOneof("payload")
        if kind == "chunk":
            upload.write(msg.chunk)
        elif stop_at is not None and stop_at(msg):
            return msg
        else:
            raise InvalidArgument(f"unexpected {kind or 'empty'} message inside a photo")
    return None


async def drain(stream: AsyncIterator[Any], max_bytes: int) -> str | None:
    """Reads what the client still sends (up to `max_bytes` of chunks) before an early answer;
    the SHA-256 of the chunks when it read them all, else None.

    Answering a client-streaming call before the client has finished sending resets the
    stream, and grpc.aio clients then report INTERNAL instead of the answer
    (grpc/grpc#36066). Reading the rest first gives every client the real status.
    """
    seen = 0
    digest = hashlib.sha256()
    try:
        async for msg in stream:
            if msg.WhichOneof("payload") == "chunk":
                seen += len(msg.chunk)
                if seen > max_bytes:
                    return None
                digest.update(msg.chunk)
    except Exception:  # the stream broke: the answer goes out regardless
        return None
    return digest.hexdigest() if seen else None


def same_photo(existing: d.Job, sha256: str | None) -> d.Job:
    """The job a repeated request id names, unless the photo sent with it is another one."""
    if sha256 is not None and sha256 != existing.image.sha256:
        raise AlreadyExists(
            f"request_id {existing.spec.request_id!r} was used for another photo (job"
            f" {existing.id}); give each photo a request_id of its own",
            reason="REQUEST_ID_REUSED",
        )
    return existing


def answers_early(handler: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Drains a client stream before answering a refused upload (see `drain`). The handler
    gets the request stream as an async iterator.

    Not for PHOTO_TOO_LARGE: the client may have much more to send.
    """

    @functools.wraps(handler)
    async def wrapper(self: Any, request_iterator: Any, context: Any) -> T:
        stream = aiter(request_iterator)
        try:
            return await handler(self, stream, context)
        except FacerecError as exc:
            if exc.reason != "PHOTO_TOO_LARGE":
                await drain(stream, self.c.cfg.max_photo_bytes)
            raise

    return wrapper


async def submit(submitter: Submitter, kind: d.JobKind, spec: d.JobSpec, upload: Upload) -> d.Job:
    """Checks and queues a received upload off the event loop; always cleans up."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(submitter.executor, submitter.submit, kind, spec, upload)
    finally:
        upload.discard()
