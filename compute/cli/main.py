"""The `facerec` command."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from facerec.compute import settings
from facerec.compute.cli import client_commands as client_cli
from facerec.compute.cli import log_format
from facerec.compute.config import ComputeConfig, WorkerConfig
from facerec.compute.errors import WeightsError
from facerec.frontend.config import FrontendConfig

COMPUTE_FLAGS = tuple(f.name for f in dataclasses.fields(ComputeConfig))
WORKER_FLAGS = tuple(f.name for f in dataclasses.fields(WorkerConfig))

FRONTEND_FLAGS = tuple(f.name for f in dataclasses.fields(FrontendConfig))
WEIGHT_FLAGS = (
    "model",
    "allow_untrained",
    "weights_path",
    "weights_url",
    "weights_sha256",
    "cache_dir",
)
# In `facerec serve` the front end reaches its compute child over a private local socket,
# so it needs neither a target nor TLS client settings (--tls-cert is the server's there).
SERVE_FRONTEND_FLAGS = tuple(
    f for f in FRONTEND_FLAGS if f not in ("grpc_target", "tls_ca", "tls_cert", "tls_key")
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facerec", description="Face recognition as an asynchronous gRPC service."
    )
    parser.add_argument("--log-level", default="info", help="debug, info, warning or error")
    parser.add_argument(
        "--log-format",
        choices=log_format.LOG_FORMATS,
        default=os.environ.get("FACEREC_LOG_FORMAT", "text"),
        help="text lines, or JSON lines with the job id (for log collectors);"
        " env FACEREC_LOG_FORMAT",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    compute = sub.add_parser("compute", help="run the gRPC compute server with its workers")
    settings.add_flags(compute, ComputeConfig, COMPUTE_FLAGS)
    compute.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    compute.add_argument("--local-socket", type=Path, help=argparse.SUPPRESS)
    compute.set_defaults(func=run_compute)

    frontend = sub.add_parser("frontend", help="run the HTTP front end alone")
    settings.add_flags(frontend, FrontendConfig, FRONTEND_FLAGS)
    frontend.add_argument("--sibling", action="store_true", help=argparse.SUPPRESS)
    frontend.set_defaults(func=run_frontend)

    serve = sub.add_parser(
        "serve", help="run compute, its worker and the front end in one process (the default)"
    )
    settings.add_flags(serve, ComputeConfig, COMPUTE_FLAGS)
    settings.add_flags(serve, FrontendConfig, SERVE_FRONTEND_FLAGS)
    serve.set_defaults(func=run_serve)

    onnx_cmd = sub.add_parser(
        "export-onnx", help="write the embedder as an ONNX model, with its model id"
    )
    onnx_cmd.add_argument("path", type=Path, help="where to write the .onnx file")
    settings.add_flags(onnx_cmd, ComputeConfig, WEIGHT_FLAGS)
    onnx_cmd.set_defaults(func=run_export_onnx)

    worker = sub.add_parser(
        "worker", help="run a worker that takes model tasks from a coordinator (any host)"
    )
    settings.add_flags(worker, WorkerConfig, WORKER_FLAGS)
    worker.set_defaults(func=run_worker)

    client_cli.add_commands(sub)
    return parser


def run_frontend(args: argparse.Namespace) -> int:
    from facerec.compute.cli.launcher import start_frontend_sibling
    from facerec.frontend.http_server import HttpServer

    try:
        server = HttpServer(
            settings.load(FrontendConfig, args),
            sibling=args.sibling,
            start_sibling=start_frontend_sibling,
        )
    except OSError as exc:
        return _cannot_start(exc)
    signal.signal(signal.SIGTERM, lambda *_: _interrupt())
    if not args.sibling:
        print(f"facerec front end at {server.url}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        _shield_shutdown()
        server.stop()
    return 0


def _cannot_start(exc: Exception) -> int:
    """Says why a command could not start; its exit code."""
    logging.getLogger("facerec").error("cannot start: %s", exc)
    return 2


def _interrupt() -> None:
    raise KeyboardInterrupt


def _shield_shutdown() -> None:
    """Lets the shutdown under way finish: a further SIGINT or SIGTERM would otherwise raise
    inside it. Ctrl-C sends a front-end process both, one from the terminal and one from the
    parent that stops it."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def run_serve(args: argparse.Namespace) -> int:
    from facerec.compute.cli.launcher import ComputeChild, start_frontend_sibling
    from facerec.frontend.http_server import HttpServer

    compute_cfg = settings.load(ComputeConfig, args)
    front_cfg = settings.load(FrontendConfig, args)
    child = ComputeChild(compute_cfg, args.log_level)
    try:
        port = child.start()
    except RuntimeError as exc:
        return _cannot_start(exc)
    log = logging.getLogger("facerec")
    log.info("compute server on port %d", port)
    try:
        front = HttpServer(
            dataclasses.replace(front_cfg, grpc_target=child.local_target),
            start_sibling=start_frontend_sibling,
        )
    except OSError as exc:
        child.stop()
        return _cannot_start(exc)
    signal.signal(signal.SIGTERM, lambda *_: _interrupt())
    front.start()
    print(f"facerec is running at {front.url} (Ctrl-C stops it)", flush=True)
    if compute_cfg.require_keys:
        print(_login_line(child.local_target, compute_cfg.data_dir, front.url), flush=True)
    try:
        child.keep_running()
    except KeyboardInterrupt:
        # Ctrl-C in a terminal reaches the child too, and it ignores further signals once
        # stopping; SIGINT or SIGTERM sent to this process alone reaches only this one.
        _shield_shutdown()
        front.stop()
        child.stop()
        return 0


def _login_line(target: str, data_dir: Path, url: str) -> str:
    """The one-time login URL for a browser, made with the data directory's admin key."""
    import grpc

    from facerec.compute.cli import client
    from facerec.compute.cli.key_commands import login_url

    with client.connect(target, client.find_key("", data_dir)) as api:
        try:
            link = login_url(api, url)
            return f"log in from a browser: {link} (one use; `facerec login-url` makes more)"
        except grpc.RpcError as exc:
            return f"no login URL ({exc.details()}); `facerec login-url --api-key KEY` makes one"


def _run_async(main: Coroutine[Any, Any, None]) -> int:
    try:
        asyncio.run(main)
    except WeightsError as exc:
        logging.getLogger("facerec").error("%s", exc)
        return 2
    except (ValueError, OSError) as exc:
        return _cannot_start(exc)
    return 0


def run_export_onnx(args: argparse.Namespace) -> int:
    from facerec.compute.models import onnx_export, registry
    from facerec.compute.models.catalog import SFACE
    from facerec.compute.models.embedder import Embedder

    cfg = settings.load(ComputeConfig, args)
    try:
        choice = registry.choose(cfg)
    except (WeightsError, ValueError) as exc:
        logging.getLogger("facerec").error("%s", exc)
        return 2
    if choice.spec is SFACE:
        onnx_export.export_sface(args.path, choice.path)
    else:
        onnx_export.export(Embedder(choice.path), args.path)
    print(f"wrote {args.path} (model {choice.spec.id})")
    return 0


def run_compute(args: argparse.Namespace) -> int:
    from facerec.compute.api import server  # imports torch: only for the commands that need it

    def announce(port: int, local_target: str) -> None:
        if args.port_file is not None:
            tmp = args.port_file.with_suffix(".tmp")
            tmp.write_text(f"{port}\n{local_target}")
            tmp.replace(args.port_file)

    cfg = settings.load(ComputeConfig, args)
    return _run_async(server.serve(cfg, announce, local_socket=args.local_socket))


def run_worker(args: argparse.Namespace) -> int:
    import threading

    from facerec.compute.worker.remote_worker import HelloRefused, RemoteWorker, build_runners

    log = logging.getLogger("facerec")
    cfg = settings.load(WorkerConfig, args)
    try:
        runners = build_runners(cfg)
    except (WeightsError, ValueError) as exc:
        return _cannot_start(exc)
    worker = RemoteWorker(cfg, runners)
    refused: list[str] = []

    def serve() -> None:
        try:
            worker.run()
        except HelloRefused as exc:
            refused.append(str(exc))

    # The session runs in a thread so that signals reach this one at once.
    thread = threading.Thread(target=serve, name="work-session")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: worker.stop())
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
    if refused:
        log.error("the coordinator refused this worker: %s", refused[0])
        return 2
    log.info("facerec worker stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Processes this one starts (compute, workers, front-end siblings) log the same way.
    os.environ["FACEREC_LOG_FORMAT"] = args.log_format
    log_format.setup(args.log_level, args.log_format)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
