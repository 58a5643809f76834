"""The `facerec` command."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import Any

from facerec.compute import client_cli, settings
from facerec.compute.config import ComputeConfig
from facerec.compute.errors import WeightsError
from facerec.frontend.config import FrontendConfig

COMPUTE_FLAGS = (
    "grpc_host",
    "grpc_port",
    "data_dir",
    "device",
    "allow_untrained",
    "weights_path",
    "weights_url",
    "weights_sha256",
    "cache_dir",
    "max_photo_bytes",
    "max_photo_pixels",
    "max_queued_jobs",
    "workers",
    "torch_threads",
    "max_attempts",
    "lease_seconds",
    "retain_photos",
    "shutdown_grace_seconds",
)

FRONTEND_FLAGS = (
    "http_host",
    "http_port",
    "grpc_target",
    "max_upload_bytes",
    "grpc_timeout_seconds",
    "upload_timeout_seconds",
    "sse_keepalive_seconds",
    "http_threads",
    "max_event_streams",
    "retry_after_seconds",
)
SERVE_FRONTEND_FLAGS = tuple(f for f in FRONTEND_FLAGS if f != "grpc_target")


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("faiss").setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facerec", description="Face recognition as an asynchronous gRPC service."
    )
    parser.add_argument("--log-level", default="info", help="debug, info, warning or error")
    sub = parser.add_subparsers(dest="command", required=True)

    compute = sub.add_parser("compute", help="run the gRPC compute server with its workers")
    settings.add_flags(compute, ComputeConfig, COMPUTE_FLAGS)
    compute.set_defaults(func=run_compute)

    frontend = sub.add_parser("frontend", help="run the HTTP front end alone")
    settings.add_flags(frontend, FrontendConfig, FRONTEND_FLAGS)
    frontend.set_defaults(func=run_frontend)

    serve = sub.add_parser(
        "serve", help="run compute, its worker and the front end in one process (the default)"
    )
    settings.add_flags(serve, ComputeConfig, COMPUTE_FLAGS)
    settings.add_flags(serve, FrontendConfig, SERVE_FRONTEND_FLAGS)
    serve.set_defaults(func=run_serve)

    client_cli.add_commands(sub)
    return parser


def run_frontend(args: argparse.Namespace) -> int:
    from facerec.frontend.http_server import HttpServer

    server = HttpServer(settings.load(FrontendConfig, args))
    signal.signal(signal.SIGTERM, lambda *_: _interrupt())
    print(f"facerec front end at {server.url}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        server.stop()
    return 0


def _interrupt() -> None:
    raise KeyboardInterrupt


def run_serve(args: argparse.Namespace) -> int:
    from facerec.compute import server
    from facerec.frontend.http_server import HttpServer

    compute_cfg = settings.load(ComputeConfig, args)
    front_cfg = settings.load(FrontendConfig, args)
    http: list[HttpServer] = []

    def start_frontend(port: int) -> None:
        host = (
            compute_cfg.grpc_host
            if compute_cfg.grpc_host not in ("0.0.0.0", "::")
            else ("127.0.0.1")
        )
        front = HttpServer(dataclasses.replace(front_cfg, grpc_target=f"{host}:{port}"))
        front.start()
        http.append(front)
        print(f"facerec is running at {front.url} (Ctrl-C stops it)", flush=True)

    def stop_frontend() -> None:
        for front in http:
            front.stop()

    return _run_async(server.serve(compute_cfg, start_frontend, stop_frontend))


def _run_async(main: Coroutine[Any, Any, None]) -> int:
    try:
        asyncio.run(main)
    except WeightsError as exc:
        logging.getLogger("facerec").error("%s", exc)
        return 2
    except (ValueError, OSError) as exc:
        logging.getLogger("facerec").error("cannot start: %s", exc)
        return 2
    return 0


def run_compute(args: argparse.Namespace) -> int:
    from facerec.compute import server  # imports torch: only for the commands that need it

    return _run_async(server.serve(settings.load(ComputeConfig, args)))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.log_level)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
