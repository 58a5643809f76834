"""Who may call what: the role of every method, checked by a server interceptor.

The interceptor wraps each handler so that it reads `authorization: Bearer <key>`, checks
the key and its role, and makes the key the handler's `caller()`. Streams are tracked so
that revoking a key ends the streams opened with it (and its sessions) at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import grpc

from facerec.compute.api.handler_wrap import wrap_handler
from facerec.compute.api.keyring import NO_KEY, KeyRing
from facerec.compute.api.status import REASON_KEY
from facerec.compute.domain import ApiKey, Job, JobSpec, KeyKind, Role
from facerec.compute.errors import FacerecError, NotFound, PermissionDenied, Unauthenticated

log = logging.getLogger(__name__)

A, U, W, M = Role.ADMIN, Role.USER, Role.WORKER, Role.METRICS
_R = "/facerec.v1.RecognitionService/"
_G = "/facerec.v1.GalleryService/"
_W = "/facerec.v1.WorkerService/"
_K = "/facerec.v1.KeyService/"

# Every method of the contract; a method missing here is refused to every key.
METHOD_ROLES: dict[str, frozenset[Role]] = {
    **{
        _R + m: frozenset((A, U))
        for m in (
            "SubmitJob",
            "GetJob",
            "ListJobs",
            "CancelJob",
            "WatchJob",
            "Recognize",
            "WatchAlerts",
            "ListAlerts",
        )
    },
    _R + "ListWebhookDeliveries": frozenset((A,)),
    **{
        _G + m: frozenset((A,))
        for m in (
            "CreateCollection",
            "DeleteCollection",
            "CreateIdentity",
            "ListIdentities",
            "GetIdentity",
            "DeleteIdentity",
            "EnrollFaces",
            "DeleteFace",
            "UpdateCollection",
            "AddWebhook",
            "DeleteWebhook",
            "GetFaceCrop",
        )
    },
    _G + "ListCollections": frozenset((A, U)),
    _G + "SearchFaces": frozenset((A, U)),
    _W + "Work": frozenset((W,)),
    _W + "ListWorkers": frozenset((A, M)),
    **{_K + m: frozenset((A,)) for m in ("CreateKey", "ListKeys", "RevokeKey")},
    _K + "CreateLoginToken": frozenset((A, U)),
    _K + "GetCaller": frozenset((A, U, W, M)),
}
# Callable without a key: health checks, reflection, the served model (what /readyz shows),
# and the login exchange (its token is the credential).
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
OPEN_METHODS = frozenset((_K + "RedeemLoginToken", _G + "GetModel"))
# With keys off, every call acts as this key.
ANONYMOUS = ApiKey("", "anonymous (keys off)", Role.ADMIN, KeyKind.KEY, 0.0)

_caller: contextvars.ContextVar[ApiKey] = contextvars.ContextVar("caller", default=ANONYMOUS)


def caller() -> ApiKey:
    """The key of the call being handled (ANONYMOUS with keys off)."""
    return _caller.get()


def owner_filter() -> str | None:
    """The owner whose jobs and alerts the caller may see: None (all) for admins."""
    key = caller()
    return None if key.role is Role.ADMIN else key.principal


def owned(spec: JobSpec) -> JobSpec:
    """The spec with the caller as its owner."""
    return dataclasses.replace(spec, owner=caller().principal)


def visible(job: Job) -> Job:
    """The job, when the caller may see it; NotFound (as for a missing one) otherwise."""
    owner = owner_filter()
    if owner is not None and job.spec.owner != owner:
        raise NotFound(f"job {job.id!r} does not exist")
    return job


def _roles_text(roles: frozenset[Role]) -> str:
    """'an admin or user' for {ADMIN, USER}."""
    text = " or ".join(sorted(r.label for r in roles))
    return ("an " if text[0] in "aeiou" else "a ") + text


class StreamRegistry:
    """Open streams by key; `revoked(ids)` ends those of keys (and sessions) in `ids`."""

    def __init__(self) -> None:
        self._open: dict[asyncio.Event, ApiKey] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.contextmanager
    def track(self, key: ApiKey) -> Iterator[asyncio.Event]:
        self._loop = asyncio.get_running_loop()
        ended = asyncio.Event()
        self._open[ended] = key
        try:
            yield ended
        finally:
            self._open.pop(ended, None)

    def revoked(self, ids: set[str]) -> None:
        """Safe from any thread."""
        loop = self._loop
        if loop is None:
            return
        for ended, key in list(self._open.items()):
            if key.id in ids or key.parent_id in ids:
                loop.call_soon_threadsafe(ended.set)

    async def sweep(self, keyring: KeyRing, every: float = 10.0) -> None:
        """Ends streams whose keys stopped working elsewhere (expiry, another server)."""
        while True:
            await asyncio.sleep(every)
            for ended, key in list(self._open.items()):
                if key.id and not await asyncio.to_thread(keyring.still_valid, key):
                    ended.set()


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Checks every call's key and role; with `enabled` False every call is ANONYMOUS."""

    def __init__(self, keyring: KeyRing, streams: StreamRegistry, enabled: bool) -> None:
        self.keyring = keyring
        self.streams = streams
        self.enabled = enabled

    async def intercept_service(
        self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        method = details.method
        if (
            handler is None
            or not self.enabled
            or method in OPEN_METHODS
            or method.startswith(OPEN_PREFIXES)
        ):
            return handler
        return self._wrap(handler, self._checker(method))

    def _checker(self, method: str) -> Callable[[Any], Any]:
        roles = METHOD_ROLES.get(method, frozenset())
        name = method.rsplit("/", 1)[-1]

        async def check(context: grpc.aio.ServicerContext) -> ApiKey:
            header = dict(context.invocation_metadata() or ()).get("authorization", "")
            try:
                if not header:
                    raise Unauthenticated(NO_KEY)
                scheme, _, token = header.partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    raise Unauthenticated("the authorization metadata must be 'Bearer <key>'")
                key = self.keyring.cached(token) or await asyncio.to_thread(
                    self.keyring.authenticate, token
                )
                if key.role not in roles:
                    raise PermissionDenied(
                        f"a {key.role.label} key may not call {name}"
                        + (f"; it needs {_roles_text(roles)} key" if roles else "")
                    )
            except FacerecError as exc:
                code = (
                    grpc.StatusCode.UNAUTHENTICATED
                    if isinstance(exc, Unauthenticated)
                    else grpc.StatusCode.PERMISSION_DENIED
                )
                await context.abort(code, exc.message, ((REASON_KEY, exc.reason),))
            _caller.set(key)
            return key

        return check

    async def _until_revoked(
        self, key: ApiKey, responses: AsyncIterator[Any], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        with self.streams.track(key) as ended:
            stop = asyncio.ensure_future(ended.wait())
            try:
                while True:
                    step = asyncio.ensure_future(anext(responses))
                    done, _ = await asyncio.wait({step, stop}, return_when=asyncio.FIRST_COMPLETED)
                    if step not in done:
                        step.cancel()
                        with contextlib.suppress(BaseException):
                            await step
                        await context.abort(
                            grpc.StatusCode.UNAUTHENTICATED,
                            f"the key {key.name!r} of this stream was revoked or expired",
                            ((REASON_KEY, "KEY_REVOKED"),),
                        )
                    try:
                        item = step.result()
                    except StopAsyncIteration:
                        return
                    yield item
            finally:
                stop.cancel()
                with contextlib.suppress(BaseException):
                    await responses.aclose()  # type: ignore[attr-defined]

    def _wrap(
        self, handler: grpc.RpcMethodHandler, check: Callable[[Any], Any]
    ) -> grpc.RpcMethodHandler:
        """The handler with `check` first; streams end when their key is revoked."""

        def around_unary(inner: Any) -> Any:
            async def call(request: Any, context: Any) -> Any:
                await check(context)
                return await inner(request, context)

            return call

        def around_stream(inner: Any) -> Any:
            async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
                key = await check(context)
                async for item in self._until_revoked(key, inner(request, context), context):
                    yield item

            return streaming

        return wrap_handler(handler, around_unary, around_stream)
