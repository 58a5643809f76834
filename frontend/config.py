"""Configuration of the front end."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
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
    http_connection_limit: int = 1000
    http_header_timeout_seconds: float = 10.0
    http_min_body_rate: int = 16 * 1024
    http_idle_timeout_seconds: float = 30.0
    max_event_streams: int = 32
    retry_after_seconds: int = 2
    allowed_hosts: str = ""
    secure_cookies: bool = False
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

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
        " 0: two (one on a single core or off Linux), a quarter of the cores from 12 on, at most 4",
        "http_connection_limit": "open HTTP connections allowed per process; past it new"
        " connections wait in the kernel's backlog (slow clients hold a connection, never a"
        " thread)",
        "http_header_timeout_seconds": "time a client has to send a request's line and headers"
        " (later: 408 and the connection closes)",
        "http_min_body_rate": "slowest average rate, in bytes per second, at which a request"
        " body may arrive after the header allowance (slower: 408)",
        "http_idle_timeout_seconds": "an idle keep-alive connection is closed after this long",
        "max_event_streams": "open event streams allowed at once (more: 503); the other "
        "threads stay free for normal requests",
        "retry_after_seconds": "Retry-After sent with 503 responses",
        "allowed_hosts": "comma-separated host names (and addresses) the front end answers"
        " to in the Host header, against DNS rebinding; empty: the listen address,"
        " localhost, 127.0.0.1 and ::1 (and this machine's names when listening on all"
        " interfaces)",
        "secure_cookies": "mark the session cookie Secure (serve it over HTTPS only), for a"
        " front end behind a TLS-terminating proxy",
        "tls_ca": "PEM CA certificates to verify the compute server with; set: connect over TLS",
        "tls_cert": "PEM client certificate for a compute server that asks for one (mutual TLS)",
        "tls_key": "PEM private key of the client certificate",
    }


def processes(cfg: FrontendConfig) -> int:
    """How many front-end processes to run: `http_processes`, or for 0 two (one on a
    single core), a quarter of the cores from 12 cores on, at most 4; one where the kernel
    does not spread connections over sockets sharing a port (only Linux does).

    One process runs its Python on one core at a time, so a burst of uploads queues there
    even while compute waits: two took 20-25 % off the upload p99 at 16 clients on two
    cores, and four met the target on sixteen; more would take cores from compute."""
    if cfg.http_processes > 0:
        return cfg.http_processes
    if not sys.platform.startswith("linux"):
        return 1
    cores = os.cpu_count() or 1
    return min(cores, 4, max(2, cores // 4))


def allowed_hosts(cfg: FrontendConfig) -> frozenset[str]:
    """The Host header names the front end answers to (lowercase, without port)."""
    if cfg.allowed_hosts.strip():
        return frozenset(h.strip().lower().strip("[]") for h in cfg.allowed_hosts.split(","))
    hosts = {"localhost", "127.0.0.1", "::1", cfg.http_host.lower().strip("[]")}
    if cfg.http_host in ("0.0.0.0", "::", ""):
        import socket

        hosts |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(hosts)
