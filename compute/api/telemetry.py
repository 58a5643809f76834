"""Metrics of every gRPC call, and the HTTP endpoint that serves the compute server's metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import grpc
from prometheus_client import make_wsgi_app

from facerec.compute import metrics
from facerec.compute.api.handler_wrap import wrap_handler
from facerec.compute.api.keyring import KeyRing
from facerec.compute.domain import Role
from facerec.compute.errors import FacerecError

log = logging.getLogger(__name__)

METRICS_ROLES = frozenset({Role.ADMIN, Role.METRICS})


def _names(method: str) -> tuple[str, str]:
    """('RecognitionService', 'SubmitJob') for '/facerec.v1.RecognitionService/SubmitJob'."""
    service, _, name = method.lstrip("/").rpartition("/")
    return service.rsplit(".", 1)[-1], name


def _code(context: Any, failed: bool) -> str:
    code = context.code()
    if code is None:
        return "UNKNOWN" if failed else "OK"
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts every call by method and status code and times it (a stream: its whole life)."""

    async def intercept_service(
        self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        service, name = _names(details.method)
        requests = metrics.GRPC_REQUESTS
        seconds = metrics.GRPC_SECONDS.labels(service, name)

        def done(context: Any, started: float, failed: bool) -> None:
            seconds.observe(time.perf_counter() - started)
            requests.labels(service, name, _code(context, failed)).inc()

        def around_unary(inner: Any) -> Any:
            async def call(request: Any, context: Any) -> Any:
                started, failed = time.perf_counter(), True
                try:
                    answer = await inner(request, context)
                    failed = False
                    return answer
                finally:
                    done(context, started, failed)

            return call

        def around_stream(inner: Any) -> Any:
            async def stream(request: Any, context: Any) -> AsyncIterator[Any]:
                started, failed = time.perf_counter(), True
                try:
                    async for item in inner(request, context):
                        yield item
                    failed = False
                finally:
                    done(context, started, failed)

            return stream

        return wrap_handler(handler, around_unary, around_stream)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class MetricsEndpoint:
    """`GET /metrics` in Prometheus text on its own port, in a thread. With keys required, a
    scrape needs `Authorization: Bearer <metrics or admin key>`."""

    def __init__(self, host: str, port: int, keyring: KeyRing | None) -> None:
        self.keyring = keyring
        self._app = make_wsgi_app(metrics.REGISTRY)
        self._server = make_server(
            host, port, self._guarded, server_class=_ThreadingServer, handler_class=_Quiet
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )

    def _refusal(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        if self.keyring is None:
            return None
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "401 Unauthorized", "send 'Authorization: Bearer <metrics or admin key>'"
        try:
            key = self.keyring.authenticate(token.strip())
        except FacerecError as exc:
            return "401 Unauthorized", exc.message
        if key.role not in METRICS_ROLES:
            return "403 Forbidden", f"a {key.role.label} key may not read metrics"
        return None

    def _guarded(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") not in ("/metrics", "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"metrics are at /metrics\n"]
        refusal = self._refusal(environ)
        if refusal is not None:
            start_response(refusal[0], [("Content-Type", "text/plain; charset=utf-8")])
            return [refusal[1].encode() + b"\n"]
        return self._app(environ, start_response)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
