"""`facerec worker`: a worker on another host, connected to a coordinator over WorkerService."""

from __future__ import annotations

import dataclasses
import logging
import os
import platform
import queue
import random
import socket
import threading
from collections.abc import Iterator

import grpc
import torch

from facerec.compute.config import WorkerConfig
from facerec.compute.models import registry
from facerec.compute.models.detector import Detector
from facerec.compute.models.embedder import check_device, resolve_precision
from facerec.compute.tasks import DETECT_MTCNN, EMBED_PREFIX, Task, TaskError, WorkerHello
from facerec.compute.worker import task_convert
from facerec.compute.worker.channel import ChannelSecurity, open_channel
from facerec.compute.worker.task_runner import TaskRunner
from facerec.v1 import worker_service_pb2 as pb
from facerec.v1 import worker_service_pb2_grpc

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
FIRST_BACKOFF_SECONDS = 0.5
_REFUSED = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
)


class HelloRefused(Exception):
    """The coordinator cannot use this worker as configured; retrying cannot help."""


def parse_capabilities(spec: str) -> tuple[bool, str | None]:
    """(detects, wanted model id or "" for "the weights' model" or None for no embedding)."""
    detects, model = False, None
    for cap in (c.strip() for c in spec.split(",")):
        if cap in ("detect", DETECT_MTCNN):
            detects = True
        elif cap == "embed":
            model = ""
        elif cap.startswith(EMBED_PREFIX) and len(cap) > len(EMBED_PREFIX):
            model = cap[len(EMBED_PREFIX) :]
        elif cap:
            raise ValueError(f"unknown capability {cap!r}; use detect, embed or embed:<model id>")
    if not detects and model is None:
        raise ValueError("a worker needs at least one capability: detect or embed")
    return detects, model


def build_runners(cfg: WorkerConfig) -> list[TaskRunner]:
    """One runner per task slot, loading only the models the capabilities need."""
    resolve_precision(cfg.precision, check_device(cfg.device))
    if cfg.torch_threads > 0:
        torch.set_num_threads(cfg.torch_threads)
    detects, model = parse_capabilities(cfg.capabilities)
    embedder = None
    if model is not None:
        choice = registry.choose(dataclasses.replace(cfg, model=model or cfg.model))
        embedder = registry.load(choice, cfg.device, cfg.torch_threads, cfg.precision)
    return [
        TaskRunner(Detector(cfg.device) if detects else None, embedder)
        for _ in range(max(1, cfg.max_tasks))
    ]


def _runtime(cfg: WorkerConfig, runner: TaskRunner) -> str:
    """What the hello says this worker runs on."""
    runtime = f"python {platform.python_version()}, torch {torch.__version__}, {cfg.device}"
    if runner.embedder is not None:
        runtime += f", embedder on {runner.embedder.runtime}"
    return runtime


class RemoteWorker:
    """Keeps one Work session open, reconnecting with jittered exponential backoff."""

    def __init__(self, cfg: WorkerConfig, runners: list[TaskRunner]) -> None:
        self.cfg = cfg
        self.runners = runners
        self.hello = WorkerHello(
            worker_id=cfg.worker_id or f"{socket.gethostname()}/{os.getpid()}",
            capabilities=runners[0].capabilities,
            max_tasks=len(runners),
            max_batch_size=cfg.max_batch_size,
            runtime=_runtime(cfg, runners[0]),
        )
        self.stopping = threading.Event()
        self._call: grpc.Future | None = None
        self._current: _Session | None = None

    def stop(self) -> None:
        """Drains: tells the coordinator to send nothing new, lets the tasks in hand finish
        (up to `shutdown_grace_seconds`), then ends the session. Returns at once; a second
        call ends it now, and tasks still held go back to the coordinator's queue."""
        if self.stopping.is_set():
            self._cancel()
            return
        self.stopping.set()
        session = self._current
        if session is None or not session.started:
            self._cancel()
            return
        threading.Thread(target=self._drain, args=(session,), daemon=True).start()

    def _drain(self, session: _Session) -> None:
        # The coordinator ends the stream once every task this worker holds is answered.
        session.outbox.put(pb.WorkRequest(draining=pb.WorkerDraining()))
        log.info("draining: finishing the tasks in hand")
        if not session.ended.wait(self.cfg.shutdown_grace_seconds):
            log.warning("tasks still running after the grace period; giving them back")
            self._cancel()

    def _cancel(self) -> None:
        if self._call is not None:
            self._call.cancel()

    def run(self) -> None:
        """Serves until `stop()`; raises HelloRefused when the coordinator refuses it."""
        backoff = FIRST_BACKOFF_SECONDS
        while not self.stopping.is_set():
            if self._session():
                backoff = FIRST_BACKOFF_SECONDS
            if self.stopping.is_set():
                break
            wait = backoff * random.uniform(0.75, 1.25)
            log.info("reconnecting to %s in %.1f s", self.cfg.coordinator, wait)
            self.stopping.wait(wait)
            backoff = min(backoff * 2, self.cfg.reconnect_max_seconds)

    def _session(self) -> bool:
        """One session; True when the coordinator accepted the hello."""
        options = [
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
        ]
        outbox: queue.SimpleQueue[pb.WorkRequest | None] = queue.SimpleQueue()
        session = self._current = _Session(self, outbox)
        channel = open_channel(self.cfg.coordinator, ChannelSecurity.of(self.cfg), options)
        with channel:
            stub = worker_service_pb2_grpc.WorkerServiceStub(channel)
            self._call = call = stub.Work(session.requests())
            if self.stopping.is_set():
                call.cancel()
            try:
                for msg in call:
                    which = msg.WhichOneof("message")
                    if which == "started":
                        session.begin(msg.started)
                    elif which == "task":
                        session.tasks.put(task_convert.task_from_pb(msg.task))
                    elif which == "cancel":
                        session.cancelled.add(msg.cancel.task_id)
                if not self.stopping.is_set():
                    log.warning("the coordinator ended the session")
            except grpc.RpcError as exc:
                if exc.code() in _REFUSED:
                    raise HelloRefused(exc.details()) from None
                if exc.code() != grpc.StatusCode.CANCELLED or not self.stopping.is_set():
                    log.warning("coordinator %s: %s", self.cfg.coordinator, exc.details())
            finally:
                session.end()
        return session.started


class _Session:
    """The threads of one Work stream: task runners and a heartbeat."""

    def __init__(self, worker: RemoteWorker, outbox: queue.SimpleQueue) -> None:
        self.worker = worker
        self.outbox = outbox
        self.tasks: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self.cancelled: set[str] = set()
        self.running: set[str] = set()
        self.ended = threading.Event()
        self.started = False
        self.threads: list[threading.Thread] = []

    def requests(self) -> Iterator[pb.WorkRequest]:
        yield task_convert.hello_to_pb(self.worker.hello)
        while (msg := self.outbox.get()) is not None:
            yield msg

    def begin(self, started: pb.WorkStarted) -> None:
        self.started = True
        log.info(
            "connected to %s as %s (session %s, model %s, lease %.0f s)",
            self.worker.cfg.coordinator,
            self.worker.hello.worker_id,
            started.session_id,
            started.model_id,
            started.lease_seconds,
        )
        for n, runner in enumerate(self.worker.runners):
            t = threading.Thread(target=self._run, args=(runner,), name=f"task-{n}", daemon=True)
            t.start()
            self.threads.append(t)
        beat = max(0.5, started.heartbeat_seconds or 10.0)
        threading.Thread(target=self._heartbeat, args=(beat,), daemon=True).start()

    def end(self) -> None:
        self.ended.set()
        self.outbox.put(None)
        for _ in self.threads:
            self.tasks.put(None)

    def _heartbeat(self, every: float) -> None:
        while not self.ended.wait(every):
            self.outbox.put(pb.WorkRequest(heartbeat=pb.TaskHeartbeat(task_ids=list(self.running))))

    def _run(self, runner: TaskRunner) -> None:
        while (task := self.tasks.get()) is not None:
            if self.ended.is_set():
                return  # the coordinator already took the task back
            self.running.add(task.id)
            if task.id in self.cancelled:
                answer = TaskError("CANCELLED", f"task {task.id} was withdrawn", True)
            else:
                answer = runner.answer(task)
            self.running.discard(task.id)
            self.cancelled.discard(task.id)
            if isinstance(answer, TaskError):
                self.outbox.put(task_convert.failure_to_pb(task, answer))
            else:
                self.outbox.put(task_convert.result_to_pb(task, answer))
