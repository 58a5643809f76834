"""Domain errors; servicers map each to its gRPC status code."""

from __future__ import annotations

import re

_LONG_WORD = re.compile(r"\S{81,}")


def cut_long_words(message: str) -> str:
    """The message with every run of more than 80 non-space characters (an echoed id, name
    or value) cut to its first 60 and its length: a client that sent 100 000 characters
    does not get them back, and the status still fits gRPC's metadata limits."""
    return _LONG_WORD.sub(lambda m: f"{m.group()[:60]}…({len(m.group())} characters)", message)


class FacerecError(Exception):
    """Base of errors a client caused or must react to.

    `reason` is a stable machine-readable code sent with the status so that
    clients (the front end among them) can tell cases apart.
    """

    reason = "ERROR"

    def __init__(self, message: str, reason: str | None = None) -> None:
        message = cut_long_words(message)
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason


class InvalidArgument(FacerecError):
    reason = "INVALID_ARGUMENT"


class NotFound(FacerecError):
    reason = "NOT_FOUND"


class AlreadyExists(FacerecError):
    reason = "ALREADY_EXISTS"


class FailedPrecondition(FacerecError):
    reason = "FAILED_PRECONDITION"


class ResourceExhausted(FacerecError):
    reason = "RESOURCE_EXHAUSTED"


class Unavailable(FacerecError):
    reason = "UNAVAILABLE"


class Unauthenticated(FacerecError):
    reason = "UNAUTHENTICATED"


class PermissionDenied(FacerecError):
    reason = "PERMISSION_DENIED"


class WeightsError(Exception):
    """The embedder's weights cannot be found, fetched or trusted."""


class WeightsUnavailable(WeightsError):
    """No weights were given, none are cached and none could be downloaded (nothing found
    was wrong: a model that needs no download may be served instead)."""


class Internal(FacerecError):
    reason = "INTERNAL"


def mib(n: int) -> str:
    """A byte count in MiB, for messages."""
    return f"{n / (1024 * 1024):.1f} MiB"


def photo_too_large(size_bytes: int, limit: int) -> InvalidArgument:
    """The error of an upload past the byte limit (`size_bytes` received so far)."""
    return InvalidArgument(
        f"the photo is larger than the {mib(limit)} limit (received {mib(size_bytes)} so far)",
        reason="PHOTO_TOO_LARGE",
    )
