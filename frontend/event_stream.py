"""Server-sent event streams fed by gRPC server streams, with keep-alives and a cap."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from flask import Response

from facerec.frontend.config import FrontendConfig
from facerec.frontend.errors import ApiError, from_rpc
from facerec.frontend.metrics import Metrics
from facerec.frontend.sse import sse

log = logging.getLogger(__name__)

_END = object()
_NOTHING = object()


class EventStream:
    """Relays one gRPC server stream to an HTTP client as server-sent events.

    A helper thread reads the gRPC stream into a queue so that the response can send a
    keep-alive comment whenever nothing happened for `keepalive` seconds. The stream ends
    when the gRPC stream ends, or when the HTTP client goes away (the next write fails, the
    WSGI server closes the response, and the gRPC call is cancelled), or when the server
    shuts down (`interrupt`: the response then ends without an `end` event, so the client
    reconnects).
    """

    def __init__(
        self,
        open_call: Callable[[], grpc.Call],
        render: Callable[[Any], str],
        metrics: Metrics,
        max_streams: int,
        keepalive: float,
        first_timeout: float | None,
        retry_after: int,
        on_close: Callable[[EventStream], None] = lambda _: None,
    ) -> None:
        if metrics.add_stream(1) > max_streams:
            metrics.add_stream(-1)
            raise ApiError(
                503,
                "TOO_MANY_STREAMS",
                f"{max_streams} event streams are open already; retry shortly",
                retry_after,
            )
        self.metrics = metrics
        self.render = render
        self.keepalive = keepalive
        self.retry_after = retry_after
        self.on_close = on_close
        self._queue: queue.Queue[Any] = queue.Queue()
        self._closed = False
        try:
            self.call = open_call()
            threading.Thread(target=self._pump, daemon=True, name="sse-pump").start()
            # With no first_timeout the stream may stay quiet for long (alerts): the first
            # item is then simply the first thing sent, errors included.
            self.first = self._queue.get(timeout=first_timeout) if first_timeout else _NOTHING
        except queue.Empty:
            self.close()
            raise ApiError(
                503, "COMPUTE_UNAVAILABLE", "the compute server did not answer in time", retry_after
            ) from None
        except BaseException:
            self.close()
            raise
        if isinstance(self.first, grpc.RpcError):
            self.close()
            raise from_rpc(self.first, retry_after)

    def _pump(self) -> None:
        try:
            for item in self.call:
                self._queue.put(item)
        except grpc.RpcError as exc:
            self._queue.put(exc)
        finally:
            self._queue.put(_END)

    def _next(self) -> Any:
        """The next item, or _NOTHING when `keepalive` seconds passed without one."""
        try:
            return self._queue.get(timeout=self.keepalive)
        except queue.Empty:
            return _NOTHING

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.interrupt()
        self.metrics.add_stream(-1)
        self.on_close(self)

    def interrupt(self) -> None:
        """Cancels the gRPC stream; the response then ends when it next takes an item."""
        call = getattr(self, "call", None)
        if call is not None:
            call.cancel()

    def _events(self) -> Iterator[str]:
        try:
            yield f"retry: {self.retry_after * 1000}\n\n"
            item = self.first
            while item is not _END:
                if item is _NOTHING:
                    yield ": keep-alive\n\n"
                elif isinstance(item, grpc.RpcError):
                    if item.code() != grpc.StatusCode.CANCELLED:
                        err = from_rpc(item, self.retry_after)
                        yield sse("error", {"code": err.code, "message": err.message})
                    return
                else:
                    yield self.render(item)
                item = self._next()
            yield sse("end", {})
        finally:
            self.close()

    def response(self) -> Response:
        return Response(
            self._events(),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


class StreamHub:
    """The process's open event streams: opened with the configured cap and keep-alive, and
    all interrupted at shutdown, so that the WSGI server's threads are free before it closes.
    """

    def __init__(self, cfg: FrontendConfig, metrics: Metrics) -> None:
        self.cfg = cfg
        self.metrics = metrics
        self._lock = threading.Lock()
        self._open: set[EventStream] = set()
        self._closing = False

    def open(
        self,
        open_call: Callable[[], grpc.Call],
        render: Callable[[Any], str],
        first_timeout: float | None,
    ) -> Response:
        """Relays `open_call()`'s stream, or raises the ApiError its opening met."""
        if self._closing:
            raise ApiError(
                503,
                "SHUTTING_DOWN",
                "this server is shutting down; retry shortly",
                self.cfg.retry_after_seconds,
            )
        stream = EventStream(
            open_call,
            render,
            self.metrics,
            self.cfg.max_event_streams,
            self.cfg.sse_keepalive_seconds,
            first_timeout,
            self.cfg.retry_after_seconds,
            self._discard,
        )
        with self._lock:
            closing = self._closing
            if not closing:
                self._open.add(stream)
        if closing:
            stream.interrupt()
        return stream.response()

    def _discard(self, stream: EventStream) -> None:
        with self._lock:
            self._open.discard(stream)

    def end_all(self) -> int:
        """Interrupts every open stream and refuses new ones; returns how many were open."""
        with self._lock:
            self._closing = True
            streams = list(self._open)
        for stream in streams:
            stream.interrupt()
        return len(streams)
