"""Receiving photo bytes from request streams into the spool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from facerec.compute import domain as d
from facerec.compute.errors import InvalidArgument
from facerec.compute.spool import Upload
from facerec.compute.submitter import Submitter


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


async def submit(submitter: Submitter, kind: d.JobKind, spec: d.JobSpec, upload: Upload) -> d.Job:
    """Checks and queues a received upload off the event loop; always cleans up."""
    try:
        return await asyncio.to_thread(submitter.submit, kind, spec, upload)
    finally:
        upload.discard()
