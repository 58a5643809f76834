"""Serving the app on waitress, a threaded production WSGI server."""

from __future__ import annotations

import logging
import threading

from waitress.server import create_server

from facerec.frontend.app import create_app
from facerec.frontend.config import FrontendConfig

log = logging.getLogger(__name__)


class HttpServer:
    """The front end bound to its port (0 picks one); run in the foreground or a thread."""

    def __init__(self, cfg: FrontendConfig) -> None:
        self.cfg = cfg
        self.app = create_app(cfg)
        self._server = create_server(
            self.app,
            host=cfg.http_host,
            port=cfg.http_port,
            threads=cfg.http_threads,
            channel_timeout=max(120, int(cfg.sse_keepalive_seconds * 4)),
            ident="facerec",
            # Bodies larger than one piece wait in a temporary file, not in memory. The app
            # answers uploads over the limit with a JSON 413; waitress itself refuses only
            # bodies far past it.
            inbuf_overflow=256 * 1024,
            max_request_body_size=cfg.max_upload_bytes * 4 + 1024 * 1024,
        )
        self.port = self._server.effective_port
        host = cfg.http_host if ":" not in cfg.http_host else f"[{cfg.http_host}]"
        self.url = f"http://{host}:{self.port}/"
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        log.info(
            "facerec front end listening on %s (compute at %s)", self.url, self.cfg.grpc_target
        )
        self._server.run()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.close()
        self._server.task_dispatcher.shutdown(timeout=5)
        self.app.extensions["facerec"].compute.close()
