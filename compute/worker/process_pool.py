"""Worker processes of a compute server: `facerec worker` children on its local socket.

Each child is a whole remote worker (its own interpreter, models and torch threads), so the
Python code of several detections and of the coordinator runs in parallel rather than taking
turns on one interpreter lock, and a crash in native model code kills one child, whose tasks
go back to the queue, not the server. A child that dies is started again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from facerec.compute.config import ComputeConfig
from facerec.compute.models.catalog import FACENET, ModelSpec

log = logging.getLogger(__name__)

RESTART_SECONDS = 1.0


def die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when the parent dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def worker_id(n: int) -> str:
    """The worker id of child `n`."""
    return f"process/{n}"


class WorkerProcesses:
    """`count` worker children serving `model`, kept running until `stop()`."""

    def __init__(
        self,
        cfg: ComputeConfig,
        model: ModelSpec,
        weights: Path | None,
        count: int,
        on_exit: Callable[[str], object] | None = None,
        api_key: str = "",
    ) -> None:
        """`on_exit(worker_id)` runs when a child has died, before it is started again;
        the children connect with `api_key`."""
        self.cfg = cfg
        self.api_key = api_key
        self.on_exit = on_exit
        self.model = model
        self.weights = weights
        self.count = count
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * count
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def command(self, target: str, n: int) -> list[str]:
        cfg = self.cfg
        cmd = [
            sys.executable,
            "-m",
            "facerec.compute.cli",
            "worker",
            "--coordinator",
            target,
            "--worker-id",
            worker_id(n),
            "--max-tasks",
            "1",
            "--device",
            cfg.device,
            "--precision",
            cfg.precision,
            "--torch-threads",
            str(cfg.model_threads),
            "--model",
            self.model.id,
            "--cache-dir",
            str(cfg.cache_dir),
            "--weights-url",
            cfg.weights_url,
            "--weights-sha256",
            cfg.weights_sha256,
        ]
        if self.weights is not None and self.model.id == FACENET.id:
            cmd += ["--weights-path", str(self.weights)]
        if not self.model.trained:
            cmd.append("--allow-untrained")
        return cmd

    def start(self, target: str) -> None:
        """Starts the children, connecting to `target`, and a thread that restarts them."""
        for n in range(self.count):
            self.procs[n] = self._spawn(target, n)
        self._thread = threading.Thread(
            target=self._supervise, args=(target,), name="worker-processes", daemon=True
        )
        self._thread.start()
        log.info("started %d worker processes", self.count)

    def _spawn(self, target: str, n: int) -> subprocess.Popen[bytes]:
        # A session of its own: a Ctrl-C in the terminal reaches the server, which stops the
        # children itself once the claimed jobs are done, instead of each child at once.
        env = {**os.environ, "FACEREC_API_KEY": self.api_key}
        return subprocess.Popen(
            self.command(target, n),
            env=env,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )

    def _supervise(self, target: str) -> None:
        while not self._stopping.wait(RESTART_SECONDS):
            for n, proc in enumerate(self.procs):
                if proc is not None and proc.poll() is not None and not self._stopping.is_set():
                    log.warning(
                        "worker process %d (pid %d) exited with %s; starting it again",
                        n,
                        proc.pid,
                        proc.returncode,
                    )
                    if self.on_exit is not None:
                        self.on_exit(worker_id(n))
                    self.procs[n] = self._spawn(target, n)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None and p.poll() is None]

    def stop(self, timeout: float) -> None:
        """SIGTERM (each finishes the tasks in hand), then SIGKILL after `timeout`."""
        self._stopping.set()
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is None:
                continue
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
