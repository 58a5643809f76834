"""The `facerec` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from facerec.compute import client_cli, settings
from facerec.compute.config import ComputeConfig
from facerec.compute.errors import WeightsError

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

    client_cli.add_commands(sub)
    return parser


def run_compute(args: argparse.Namespace) -> int:
    from facerec.compute import server  # imports torch: only for the commands that need it

    cfg = settings.load(ComputeConfig, args)
    try:
        asyncio.run(server.serve(cfg))
    except WeightsError as exc:
        logging.getLogger("facerec").error("%s", exc)
        return 2
    except (ValueError, OSError) as exc:
        logging.getLogger("facerec").error("cannot start: %s", exc)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.log_level)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
