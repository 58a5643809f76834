"""The `grpc.aio` compute server: services, health, reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from facerec.compute import metrics
from facerec.compute.api.auth import AuthInterceptor, StreamRegistry
from facerec.compute.api.coordinator import Coordinator
from facerec.compute.api.gallery_servicer import GalleryServicer
from facerec.compute.api.key_servicer import KeyServicer
from facerec.compute.api.keyring import KeyRing
from facerec.compute.api.recognition_servicer import RecognitionServicer
from facerec.compute.api.telemetry import MetricsEndpoint, MetricsInterceptor
from facerec.compute.api.worker_servicer import WorkerServicer
from facerec.compute.config import ComputeConfig, is_loopback
from facerec.compute.domain import JobState, Role
from facerec.compute.worker.process_pool import WorkerProcesses
from facerec.v1 import (
    gallery_service_pb2,
    gallery_service_pb2_grpc,
    key_service_pb2,
    key_service_pb2_grpc,
    recognition_service_pb2,
    recognition_service_pb2_grpc,
    worker_service_pb2,
    worker_service_pb2_grpc,
)

log = logging.getLogger(__name__)

# DETECT tasks carry a whole photo, DETECT results a crop per face.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SERVICE_NAMES = (
    recognition_service_pb2.DESCRIPTOR.services_by_name["RecognitionService"].full_name,
    gallery_service_pb2.DESCRIPTOR.services_by_name["GalleryService"].full_name,
    worker_service_pb2.DESCRIPTOR.services_by_name["WorkerService"].full_name,
    key_service_pb2.DESCRIPTOR.services_by_name["KeyService"].full_name,
)
LOCAL_SOCKET = "compute.sock"


def check_exposure(cfg: ComputeConfig) -> None:
    """ValueError when the server would listen beyond this machine unprotected."""
    exposed = not (is_loopback(cfg.metrics_host) or cfg.require_keys or cfg.insecure)
    if cfg.metrics_port and exposed:
        raise ValueError(
            f"refusing to serve metrics on {cfg.metrics_host} without keys: anyone on the"
            " network could read them. Keep keys on, use 127.0.0.1, or pass --insecure"
        )
    if is_loopback(cfg.grpc_host) or cfg.insecure:
        return
    missing = [
        what
        for what, ok in (("TLS (--tls-cert, --tls-key)", cfg.tls), ("keys", cfg.require_keys))
        if not ok
    ]
    if missing:
        raise ValueError(
            f"refusing to listen on {cfg.grpc_host} without {' and '.join(missing)}: anyone"
            " on the network could read the photos and results, or pose as a worker. Add"
            " them, listen on 127.0.0.1, or pass --insecure if the network is trusted"
        )


def _credentials(cfg: ComputeConfig) -> grpc.ServerCredentials | None:
    if not cfg.tls:
        if cfg.tls_key is not None or cfg.tls_client_ca is not None:
            raise ValueError("--tls-key and --tls-client-ca need --tls-cert")
        return None
    if cfg.tls_key is None:
        raise ValueError("--tls-cert needs --tls-key (the certificate's private key)")
    try:
        pair = (cfg.tls_key.read_bytes(), cfg.tls_cert.read_bytes())  # type: ignore[union-attr]
        client_ca = cfg.tls_client_ca.read_bytes() if cfg.tls_client_ca else None
    except OSError as exc:
        raise ValueError(f"cannot read a TLS file: {exc}") from None
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def _metrics_endpoint(
    cfg: ComputeConfig, coordinator: Coordinator, keyring: KeyRing
) -> MetricsEndpoint | None:
    """Registers the scrape-time gauges and, with --metrics-port, serves the metrics."""
    jobs, dispatcher = coordinator.jobs, coordinator.dispatcher
    metrics.install_state(
        metrics.StateCollector(
            lambda: {s.name.lower(): jobs.count(s) for s in JobState},
            lambda: len(dispatcher.stats().sessions),
        )
    )
    if not cfg.metrics_port:
        return None
    try:
        endpoint = MetricsEndpoint(
            cfg.metrics_host, cfg.metrics_port, keyring if cfg.require_keys else None
        )
    except OSError as exc:
        raise OSError(
            f"cannot serve metrics on {cfg.metrics_host}:{cfg.metrics_port}: {exc.strerror}"
            " (choose another with --metrics-port)"
        ) from None
    endpoint.start()
    log.info("metrics at http://%s:%d/metrics", cfg.metrics_host, endpoint.port)
    return endpoint


async def serve(
    cfg: ComputeConfig,
    on_ready: Callable[[int, str], None] | None = None,
    on_stop: Callable[[], None] | None = None,
    local_socket: Path | None = None,
) -> None:
    """Runs the compute server until SIGINT/SIGTERM.

    `on_ready(port, local_target)` runs once it serves; `local_target` is a Unix socket
    that only this user can open (for worker processes and `facerec serve`'s front end,
    which then need no TLS), at `local_socket` when given. `on_stop()` runs first thing at
    shutdown.
    """
    check_exposure(cfg)
    credentials = _credentials(cfg)
    loop = asyncio.get_running_loop()
    coordinator = await asyncio.to_thread(Coordinator, cfg, loop)
    keyring = KeyRing(coordinator.keys)
    streams = StreamRegistry()
    keyring.on_revoke.append(streams.revoked)
    if cfg.require_keys:
        await asyncio.to_thread(keyring.bootstrap, cfg.data_dir)
    server = grpc.aio.server(
        interceptors=[MetricsInterceptor(), AuthInterceptor(keyring, streams, cfg.require_keys)],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    recognition_service_pb2_grpc.add_RecognitionServiceServicer_to_server(
        RecognitionServicer(coordinator), server
    )
    gallery_service_pb2_grpc.add_GalleryServiceServicer_to_server(
        GalleryServicer(coordinator), server
    )
    worker_service_pb2_grpc.add_WorkerServiceServicer_to_server(
        WorkerServicer(coordinator.dispatcher), server
    )
    key_service_pb2_grpc.add_KeyServiceServicer_to_server(KeyServicer(keyring), server)
    address = f"{cfg.grpc_host}:{cfg.grpc_port}"
    try:
        if credentials is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, credentials)
    except RuntimeError:  # grpcio raises where older versions returned 0
        port = 0
    if port == 0:
        raise OSError(
            f"cannot listen on {cfg.grpc_host}:{cfg.grpc_port} (another server on that port? "
            "choose another with --grpc-port)"
        )
    own_dir = None
    if local_socket is None:
        own_dir = Path(tempfile.mkdtemp(prefix="facerec-"))  # mode 0700: this user's only
        local_socket = own_dir / LOCAL_SOCKET
    local_socket.unlink(missing_ok=True)  # left by a server that was killed
    local_target = f"unix:{local_socket}"
    server.add_insecure_port(local_target)
    await asyncio.to_thread(coordinator.start)
    endpoint = _metrics_endpoint(cfg, coordinator, keyring)
    await server.start()
    coordinator.start_maintenance()
    sweeper = asyncio.create_task(streams.sweep(keyring))
    processes = None
    if cfg.local_worker and cfg.worker_processes > 0:
        processes = WorkerProcesses(
            cfg,
            coordinator.model,
            coordinator.model_path,
            cfg.worker_processes,
            on_exit=coordinator.dispatcher.disconnect_worker,
            api_key=keyring.ephemeral(Role.WORKER, "worker processes"),
        )
        processes.start(local_target)
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    host = cfg.grpc_host if ":" not in cfg.grpc_host else f"[{cfg.grpc_host}]"
    log.info(
        "facerec compute listening on %s:%d (model %s, %s, %s)",
        host,
        port,
        coordinator.model_id,
        ("mutual TLS" if cfg.tls_client_ca else "TLS") if cfg.tls else "no TLS",
        "API keys required" if cfg.require_keys else "NO KEYS: anyone may call anything",
    )

    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if on_ready is not None:
            on_ready(port, local_target)
        await stop.wait()
        log.info("shutting down: finishing running work (up to %.0fs)", cfg.shutdown_grace_seconds)
    finally:
        # Shutdown is under way and bounded by the grace period: later signals (a second
        # Ctrl-C, the SIGTERM of a supervising `facerec serve`) must not interrupt it.
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
                signal.signal(sig, signal.SIG_IGN)
        if on_stop is not None:
            on_stop()
        await health_servicer.enter_graceful_shutdown()
        # Claimed jobs finish first, while remote workers are still connected.
        await asyncio.to_thread(coordinator.drain)
        if processes is not None:
            await asyncio.to_thread(processes.stop, cfg.shutdown_grace_seconds)
        sweeper.cancel()
        if endpoint is not None:
            endpoint.stop()
        await server.stop(1.0)
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
        await asyncio.to_thread(coordinator.stop)
        log.info("facerec compute stopped")
