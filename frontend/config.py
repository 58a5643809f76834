"""Configuration of the front end."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class FrontendConfig:
    """Settings of `facerec frontend`; each is also a `FACEREC_<NAME>` variable."""

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    grpc_target: str = "127.0.0.1:50051"
    max_upload_bytes: int = 20 * 1024 * 1024
    grpc_timeout_seconds: float = 10.0
    upload_timeout_seconds: float = 120.0
    sse_keepalive_seconds: float = 15.0
    http_threads: int = 48
    http_processes: int = 0
    max_event_streams: int = 32
    retry_after_seconds: int = 2

    __field_docs__: ClassVar[dict[str, str]] = {
        "http_host": "address the HTTP server listens on (0.0.0.0 for every interface)",
        "http_port": "HTTP port; 0 picks a free one",
        "grpc_target": "compute server address, HOST:PORT",
        "max_upload_bytes": "largest photo accepted, in bytes (larger: 413)",
        "grpc_timeout_seconds": "deadline of each unary gRPC call",
        "upload_timeout_seconds": "deadline of one upload streamed to the compute server",
        "sse_keepalive_seconds": "interval of keep-alive comments on event streams",
        "http_threads": "HTTP worker threads (per process)",
        "http_processes": "front-end processes sharing the port (SO_REUSEPORT, Linux); one"
        " Python process uses about one core, so more processes take uploads on more cores;"
        " 0: a quarter of the cores, 1 to 4",
        "max_event_streams": "open event streams allowed at once (more: 503); the other "
        "threads stay free for normal requests",
        "retry_after_seconds": "Retry-After sent with 503 responses",
    }


def processes(cfg: FrontendConfig) -> int:
    """How many front-end processes to run: `http_processes`, or for 0 a quarter of the
    cores (1 to 4), which left the other cores to compute in the measurements."""
    if cfg.http_processes > 0:
        return cfg.http_processes
    return min(4, max(1, (os.cpu_count() or 1) // 4))
