"""Serving the app on waitress, a threaded production WSGI server, in one or more processes."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import subprocess
import threading
from collections.abc import Callable
from typing import Any

from waitress.server import create_server

from facerec.frontend import metrics
from facerec.frontend.app import create_app
from facerec.frontend.config import FrontendConfig, processes
from facerec.frontend.multipart import READ_BYTES
from facerec.frontend.slow_clients import Deadlines, SlowClientGuard, raise_open_file_limit

log = logging.getLogger(__name__)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def refuse_taken_port(host: str, port: int) -> None:
    """Raises OSError when a server listens on `port` already. SO_REUSEPORT would otherwise
    share the port with it silently, e.g. with a second `facerec serve` started by mistake."""
    if port == 0:
        return
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def shared_socket(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT, so that sibling processes can bind the same port and
    the kernel spreads connections over them."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class HttpServer:
    """The front end bound to its port (0 picks one); run in the foreground or a thread.

    With more than one process (`processes(cfg)`), this one starts the others with
    `start_sibling`, each a whole front end on the same port (it keeps no state, so any
    process can answer any request). The command line supplies `start_sibling`: how a
    process is started is its business, not the front end's.
    """

    def __init__(
        self,
        cfg: FrontendConfig,
        sibling: bool = False,
        start_sibling: Callable[[FrontendConfig], subprocess.Popen[bytes]] | None = None,
    ) -> None:
        """Binds the port; OSError with a plain message when it cannot."""
        self.cfg = cfg
        self.start_sibling = start_sibling
        self.sibling = sibling
        self.processes = 1 if sibling or start_sibling is None else processes(cfg)
        self._metrics_dir = None
        if sibling:
            metrics.join_shared()
        elif self.processes > 1:
            self._metrics_dir = metrics.share_between_processes()
        self.app = create_app(cfg)
        self.guard = SlowClientGuard(
            Deadlines(
                header_timeout=cfg.http_header_timeout_seconds,
                min_body_rate=cfg.http_min_body_rate,
                idle_timeout=cfg.http_idle_timeout_seconds,
            ),
            on_refuse=self.app.extensions["facerec"].metrics.slow_clients.inc,
        )
        try:
            self._server = self._bind()
        except OSError as exc:
            raise OSError(
                f"cannot listen on {cfg.http_host}:{cfg.http_port}: {exc.strerror or exc} "
                "(another server on that port? choose another with --http-port)"
            ) from None
        self.port = self._server.effective_port
        host = cfg.http_host if ":" not in cfg.http_host else f"[{cfg.http_host}]"
        self.url = f"http://{host}:{self.port}/"
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._siblings: list[subprocess.Popen[bytes]] = []

    def _bind(self) -> Any:
        cfg = self.cfg
        where: dict[str, object] = {"host": cfg.http_host, "port": cfg.http_port}
        if self.sibling or self.processes > 1:
            if not self.sibling:
                refuse_taken_port(cfg.http_host, cfg.http_port)
            where = {"sockets": [shared_socket(cfg.http_host, cfg.http_port)]}
        # Every connection holds a descriptor; leave room for the threads' own files.
        raise_open_file_limit(cfg.http_connection_limit + cfg.http_threads + 256)
        server = create_server(
            self.app,
            **where,
            threads=cfg.http_threads,
            connection_limit=cfg.http_connection_limit,
            # select() cannot watch descriptors past 1024; poll() can.
            asyncore_use_poll=True,
            cleanup_interval=1,
            channel_timeout=max(120, int(cfg.sse_keepalive_seconds * 4)),
            ident="facerec",
            # A body up to one piece (the most the app holds per request anyway) waits in
            # memory, a larger one in a temporary file. The app answers uploads over the limit
            # with a JSON 413; waitress itself refuses only bodies far past it.
            inbuf_overflow=READ_BYTES,
            recv_bytes=256 * 1024,
            max_request_body_size=cfg.max_upload_bytes * 4 + 1024 * 1024,
        )
        self.guard.install(server)
        return server

    def _start_siblings(self) -> None:
        if self.start_sibling is None:
            return
        same = dataclasses.replace(self.cfg, http_port=self.port, http_processes=1)
        for _ in range(self.processes - 1):
            self._siblings.append(self.start_sibling(same))

    def run(self) -> None:
        self._start_siblings()
        if self.sibling:
            log.info("facerec front end, process %d, listening on %s too", os.getpid(), self.url)
        else:
            log.info(
                "facerec front end listening on %s (compute at %s, %d %s)",
                self.url,
                self.cfg.grpc_target,
                self.processes,
                "process" if self.processes == 1 else "processes",
            )
        try:
            self._server.run()
        except OSError:
            # stop() closed the sockets while the loop was in select() on them: that is the
            # end of the loop, not a failure.
            if not self._stopping.is_set():
                raise

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends the open event streams (their clients reconnect), lets the requests in
        progress finish for up to 5 s, then closes the port and the channel to compute."""
        self._stopping.set()
        for proc in self._siblings:
            proc.terminate()
        # Streams first: a thread still writing one when the server closes fails on a
        # closed descriptor, and would hold the shutdown for its whole timeout.
        st = self.app.extensions["facerec"]
        st.streams.end_all()
        self._server.task_dispatcher.shutdown(timeout=5)
        self._server.close()
        st.compute.close()
        for proc in self._siblings:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            metrics.process_ended(proc.pid)
        if self._metrics_dir is not None:
            metrics.end_sharing(self._metrics_dir)
