"""The in-process worker: threads that take tasks from the dispatcher like any remote worker."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading

import torch

from facerec.compute.config import ComputeConfig
from facerec.compute.models.detector import Detector
from facerec.compute.models.registry import FaceEmbedder
from facerec.compute.tasks import (
    Drained,
    Task,
    TaskCancel,
    TaskError,
    TaskSource,
    WorkerHello,
)
from facerec.compute.worker.task_runner import TaskRunner

log = logging.getLogger(__name__)


class LocalWorker:
    """`cfg.worker_threads` threads, each with its own MTCNN, sharing one embedder."""

    def __init__(self, cfg: ComputeConfig, dispatcher: TaskSource, embedder: FaceEmbedder) -> None:
        self.cfg = cfg
        self.dispatcher = dispatcher
        self.embedder = embedder
        self._inbox: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self._cancelled: set[str] = set()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._session: object | None = None

    def start(self) -> None:
        """Loads a detector per thread, then connects to the dispatcher (blocking)."""
        torch.set_num_threads(self.cfg.model_threads)
        runners = [
            TaskRunner(Detector(self.cfg.device), self.embedder)
            for _ in range(self.cfg.worker_threads)
        ]
        hello = WorkerHello(
            worker_id=f"local/{os.getpid()}",
            capabilities=runners[0].capabilities,
            max_tasks=self.cfg.worker_threads,
            runtime=f"in-process, torch {torch.__version__}, {self.cfg.device},"
            f" embedder on {self.embedder.runtime}",
        )
        self._session = session = self.dispatcher.connect(hello, self._deliver)
        for n, runner in enumerate(runners):
            t = threading.Thread(
                target=self._run, args=(runner, session), name=f"worker-{n}", daemon=True
            )
            t.start()
            self._threads.append(t)
        threading.Thread(target=self._heartbeat, args=(session,), daemon=True).start()

    def stop(self, timeout: float) -> None:
        """Lets running tasks finish for up to `timeout`, then leaves the dispatcher."""
        self._stopping.set()
        for _ in self._threads:
            self._inbox.put(None)
        for t in self._threads:
            t.join(timeout)
        if self._session is not None:
            self.dispatcher.disconnect(self._session)

    def _deliver(self, item: Task | TaskCancel | Drained) -> None:
        if isinstance(item, Drained):
            return  # the local worker never drains
        if isinstance(item, TaskCancel):
            self._cancelled.add(item.task_id)
        else:
            self._inbox.put(item)

    def _heartbeat(self, session: object) -> None:
        while not self._stopping.wait(self.cfg.lease_seconds / 3):
            self.dispatcher.heartbeat(session)

    def _run(self, runner: TaskRunner, session: object) -> None:
        if self.cfg.worker_nice > 0:
            # Linux applies niceness per thread; torch's compute threads started by this
            # thread inherit it.
            with contextlib.suppress(OSError, AttributeError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.cfg.worker_nice)
        while (task := self._inbox.get()) is not None:
            if task.id in self._cancelled:
                answer = TaskError("CANCELLED", f"task {task.id} was withdrawn", True)
            else:
                answer = runner.answer(task)
            self._cancelled.discard(task.id)
            if isinstance(answer, TaskError):
                self.dispatcher.fail(session, task.id, task.attempt, answer)
            else:
                self.dispatcher.complete(session, task.id, task.attempt, answer)
