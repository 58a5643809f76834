"""Deadlines for HTTP clients that connect and then send slowly or not at all.

waitress reads each request in its event loop and hands it to a thread only once it is
complete, so a slow client holds a socket, never a thread. What it lacks is a deadline on a
request that is being read: a client sending one byte every 30 s kept its connection (and a
place under the connection limit) for ever. `SlowClientGuard` adds one, checked once a second
in waitress's own loop:

- the request line and headers must arrive within `header_timeout` seconds of the request's
  first byte;
- after that the body must keep up an average of `min_body_rate` bytes per second (counted
  from the end of the header allowance, so a short stall at the start is forgiven);
- a connection with no request in progress is closed after `idle_timeout` seconds.

A client past a deadline gets `408` with the JSON error body and the connection closes. A
request already handed to a thread (an upload being forwarded, an event stream) is never cut.
"""

from __future__ import annotations

import json
import logging
import resource
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

log = logging.getLogger(__name__)

LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class Deadlines:
    """How long a client may take; seconds, bytes per second."""

    header_timeout: float = 10.0
    min_body_rate: float = 16 * 1024
    idle_timeout: float = 30.0


def error_body(code: str, message: str) -> bytes:
    """The front end's JSON error body, for answers written outside Flask."""
    return json.dumps({"error": {"code": code, "message": message}}).encode()


_WAITRESS_ERRORS = {
    400: ("BAD_REQUEST", "the request is not valid HTTP/1.1"),
    413: ("BODY_TOO_LARGE", "the request body is larger than this server accepts"),
    431: ("HEADERS_TOO_LARGE", "the request headers are larger than this server accepts"),
    501: ("NOT_IMPLEMENTED", "this transfer encoding is not supported"),
}


class JsonErrorTask(ErrorTask):
    """waitress's own refusals (a malformed request, a body or headers past its limits) in
    the JSON error shape of every other answer, instead of waitress's plain text."""

    def execute(self) -> None:
        error = self.request.error
        code, message = _WAITRESS_ERRORS.get(error.code, ("BAD_REQUEST", "bad request"))
        detail = str(error.body).strip()
        if detail:
            message = f"{message} ({detail[:200]})"
        body = error_body(code, message)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class GuardedChannel(HTTPChannel):
    """waitress's channel, noting when the request being read began and how much of it came;
    its own errors answered as JSON."""

    error_task_class = JsonErrorTask

    request_started: float | None = None
    request_bytes = 0
    # Set once refused: the answer goes out, then the socket is half-closed and what the
    # client still sends is read and dropped until this time (monotonic). Closing with unread
    # input would make the kernel reset the connection and the client could lose the 408.
    linger_until: float | None = None
    _shut = False

    def readable(self) -> bool:
        return True if self.linger_until is not None else super().readable()

    def writable(self) -> bool:
        if self.linger_until is not None:
            return bool(self.total_outbufs_len)
        return super().writable()

    def handle_read(self) -> None:
        if self.linger_until is None:
            super().handle_read()
            return
        try:
            self.recv(self.adj.recv_bytes)  # dropped; an empty read closes the channel
        except OSError:
            self.handle_close()

    def handle_write(self) -> None:
        if self.linger_until is None:
            super().handle_write()
            return
        self._flush_exception(self._flush_some)
        if not self.total_outbufs_len and not self._shut:
            self._shut = True
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                self.handle_close()

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.monotonic()
            self.request_bytes = 0
        self.request_bytes += len(data)
        done = super().received(data)
        if self.request is None:
            self.request_started = None
        return done


def _overdue(channel: GuardedChannel, limits: Deadlines, now: float) -> str | None:
    """Why `channel` has run past a deadline, or None."""
    if channel.linger_until is not None:
        return "" if now > channel.linger_until else None
    if channel.requests or channel.will_close or channel.close_when_flushed:
        return None  # being served, or closing already
    started = channel.request_started
    if started is None or channel.request is None:
        if channel.total_outbufs_len:
            return None  # an answer still going out to a slow reader
        if now - _last_activity(channel) > limits.idle_timeout:
            return ""  # idle keep-alive connection: close without a word
        return None
    elapsed = now - started
    if not channel.request.headers_finished:
        if elapsed > limits.header_timeout:
            return (
                f"the request headers did not arrive within {limits.header_timeout:g} s;"
                " send the whole request without pausing"
            )
        return None
    owed = (elapsed - limits.header_timeout) * limits.min_body_rate
    if owed > channel.request_bytes:
        return (
            f"the request body came slower than {limits.min_body_rate / 1024:g} KiB/s"
            f" ({channel.request_bytes} bytes in {elapsed:.0f} s); send it without pausing"
        )
    return None


def _last_activity(channel: HTTPChannel) -> float:
    # waitress keeps wall-clock time; convert to the monotonic clock of the deadlines.
    return time.monotonic() - (time.time() - channel.last_activity)


def _refuse(channel: GuardedChannel, message: str, now: float) -> None:
    """Queues a 408 JSON answer on the channel's output; the channel closes once it is sent
    and the client has stopped sending (at most LINGER_SECONDS)."""
    body = error_body("REQUEST_TIMEOUT", message)
    head = (
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with channel.outbuf_lock:
        channel.outbufs[-1].append(head + body)
        channel.total_outbufs_len += len(head) + len(body)
    channel.request = None
    channel.linger_until = now + LINGER_SECONDS


class SlowClientGuard:
    """Installs the deadlines on a waitress server (before its loop starts)."""

    def __init__(self, limits: Deadlines, on_refuse: Callable[[], None] = lambda: None) -> None:
        self.limits = limits
        self.on_refuse = on_refuse

    def install(self, server: Any) -> None:
        server.channel_class = GuardedChannel
        original: Callable[[float], None] = server.maintenance

        def maintenance(now: float) -> None:
            original(now)
            self.sweep(server.active_channels.values())

        server.maintenance = maintenance

    def sweep(self, channels: Any) -> None:
        now = time.monotonic()
        for channel in list(channels):
            if not isinstance(channel, GuardedChannel):
                continue
            why = _overdue(channel, self.limits, now)
            if why is None:
                continue
            if why:
                self.on_refuse()
                log.info("closing a slow HTTP client %s: %s", channel.addr, why)
                _refuse(channel, why, now)
            else:
                channel.handle_close()


def raise_open_file_limit(wanted: int) -> int:
    """Raises this process's soft limit on open files towards `wanted` (up to the hard
    limit); returns the limit in force. Each HTTP connection holds one descriptor."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft
