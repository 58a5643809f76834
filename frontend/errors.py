"""HTTP errors as JSON, and the mapping from gRPC status codes to HTTP statuses."""

from __future__ import annotations

import re
from collections.abc import Mapping

import grpc
from flask import Response, jsonify

# Reasons the compute server attaches (trailing metadata `facerec-reason`) that need a more
# specific HTTP status than their gRPC code alone gives.
_REASON_STATUS = {
    "PHOTO_TOO_LARGE": 413,
    "PHOTO_TOO_MANY_PIXELS": 413,
    "PHOTO_TOO_COSTLY": 413,
    "UNSUPPORTED_FORMAT": 415,
    "PHOTO_CORRUPT": 415,
}

_CODE_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 503,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
}


_LONG_WORD = re.compile(r"\S{81,}")


def cut_long_words(message: str) -> str:
    """Every run of more than 80 non-space characters (an echoed id, name or value) cut to
    its first 60 and its length, as the compute server cuts its own messages."""
    return _LONG_WORD.sub(lambda m: f"{m.group()[:60]}…({len(m.group())} characters)", message)


# The contract's integer fields are 32-bit: a larger number cannot even be sent.
INT32 = (-(2**31), 2**31 - 1)


class ApiError(Exception):
    """An error answered as `{"error": {"code", "message"}}` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = cut_long_words(message)
        self.retry_after = retry_after


def response(err: ApiError) -> Response:
    resp = jsonify({"error": {"code": err.code, "message": err.message}})
    resp.status_code = err.status
    if err.status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="facerec"'
    if err.retry_after is not None:
        resp.headers["Retry-After"] = str(err.retry_after)
    return resp


def from_rpc(exc: grpc.RpcError, retry_after: int) -> ApiError:
    """The HTTP form of a failed gRPC call."""
    code = exc.code()
    details = exc.details() or code.name
    reason = dict(exc.trailing_metadata() or ()).get("facerec-reason", "")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ApiError(
            503,
            "COMPUTE_UNAVAILABLE",
            f"the compute server is unreachable or too slow right now ({details}); try again",
            retry_after,
        )
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and not reason:
        # Not compute shedding load (that names its reason): a gRPC size limit, which no
        # retry of the same request gets past.
        return ApiError(413, "REQUEST_TOO_LARGE", f"the request is too large to forward: {details}")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ApiError(503, reason, details, retry_after)
    status = _REASON_STATUS.get(reason) or _CODE_STATUS.get(code, 502)
    if status == 502:
        return ApiError(502, "COMPUTE_ERROR", f"the compute server failed: {details}")
    return ApiError(status, reason or code.name, details)


def int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    """A non-negative 32-bit integer query parameter; 400 when it is not one."""
    raw = args.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ApiError(400, "BAD_FIELD", f"{name} must be an integer") from None
    if not 0 <= value <= INT32[1]:
        raise ApiError(400, "BAD_FIELD", f"{name} is out of range (0 to {INT32[1]})")
    return value
