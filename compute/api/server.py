"""The `grpc.aio` compute server: services, health, reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from facerec.compute.api.coordinator import Coordinator
from facerec.compute.api.gallery_servicer import GalleryServicer
from facerec.compute.api.recognition_servicer import RecognitionServicer
from facerec.compute.api.worker_servicer import WorkerServicer
from facerec.compute.config import ComputeConfig
from facerec.compute.worker.process_pool import WorkerProcesses, loopback
from facerec.v1 import (
    gallery_service_pb2,
    gallery_service_pb2_grpc,
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
)


async def serve(
    cfg: ComputeConfig,
    on_ready: Callable[[int], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """Runs the compute server until SIGINT/SIGTERM.

    `on_ready(port)` runs once it serves; `on_stop()` runs first thing at shutdown.
    """
    loop = asyncio.get_running_loop()
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ]
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    coordinator = await asyncio.to_thread(Coordinator, cfg, loop)
    recognition_service_pb2_grpc.add_RecognitionServiceServicer_to_server(
        RecognitionServicer(coordinator), server
    )
    gallery_service_pb2_grpc.add_GalleryServiceServicer_to_server(
        GalleryServicer(coordinator), server
    )
    worker_service_pb2_grpc.add_WorkerServiceServicer_to_server(
        WorkerServicer(coordinator.dispatcher), server
    )
    try:
        port = server.add_insecure_port(f"{cfg.grpc_host}:{cfg.grpc_port}")
    except RuntimeError:  # grpcio raises where older versions returned 0
        port = 0
    if port == 0:
        raise OSError(
            f"cannot listen on {cfg.grpc_host}:{cfg.grpc_port} (another server on that port? "
            "choose another with --grpc-port)"
        )
    await asyncio.to_thread(coordinator.start)
    await server.start()
    coordinator.start_maintenance()
    processes = None
    if cfg.local_worker and cfg.worker_processes > 0:
        processes = WorkerProcesses(
            cfg,
            coordinator.model,
            coordinator.model_path,
            cfg.worker_processes,
            on_exit=coordinator.dispatcher.disconnect_worker,
        )
        processes.start(loopback(cfg.grpc_host, port))
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    host = cfg.grpc_host if ":" not in cfg.grpc_host else f"[{cfg.grpc_host}]"
    log.info("facerec compute listening on %s:%d (model %s)", host, port, coordinator.model_id)

    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if on_ready is not None:
            on_ready(port)
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
        await server.stop(1.0)
        await asyncio.to_thread(coordinator.stop)
        log.info("facerec compute stopped")
