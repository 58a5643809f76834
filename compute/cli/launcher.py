"""Running `facerec compute` as a child process (used by `facerec serve`).

The models then run in a process of their own, so the front end's threads never wait for
the compute side's interpreter lock, and a crash in native model code cannot take the web
tier down with it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

from facerec.compute.config import ComputeConfig
from facerec.compute.settings import env_name
from facerec.compute.worker.process_pool import die_with_parent
from facerec.frontend.metrics import MULTIPROC_ENV

READY_TIMEOUT_SECONDS = 300.0
# Waits before starting a compute server that exited again; back to the first once one
# has served for STABLE_SECONDS after it was ready (the backoff is for servers that die as
# they start, not for one that ran and was killed: that one comes back after 1 s).
RESTART_DELAYS_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
STABLE_SECONDS = 10.0

log = logging.getLogger(__name__)


def config_env(cfg: object) -> dict[str, str]:
    """`FACEREC_*` variables that reproduce `cfg` in another process."""
    env: dict[str, str] = {}
    for f in dataclasses.fields(cfg):  # type: ignore[arg-type]
        value = getattr(cfg, f.name)
        if value is None:
            continue
        env[env_name(f.name)] = (
            ("true" if value else "false") if isinstance(value, bool) else (str(value))
        )
    return env


def start_frontend_sibling(cfg: object) -> subprocess.Popen[bytes]:
    """Starts `facerec frontend --sibling` with `cfg`: one more front-end process on the
    same port, ended by Linux when this process dies."""
    return subprocess.Popen(
        [sys.executable, "-m", "facerec.compute.cli", "frontend", "--sibling"],
        env={**os.environ, **config_env(cfg)},
        preexec_fn=die_with_parent,
    )


class ComputeChild:
    """A `facerec compute` subprocess; `port` is known once `start()` returns."""

    def __init__(self, cfg: ComputeConfig, log_level: str = "info") -> None:
        self.cfg = cfg
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        # The compute server's private Unix socket, the same across restarts.
        self._local_dir = Path(tempfile.mkdtemp(prefix="facerec-"))
        self.local_socket = self._local_dir / "compute.sock"
        self.local_target = f"unix:{self.local_socket}"

    def start(self, port: int | None = None) -> int:
        """Starts the child (on `port`, else on the configured one) and waits until it listens."""
        cfg = self.cfg if port is None else dataclasses.replace(self.cfg, grpc_port=port)
        with tempfile.TemporaryDirectory() as tmp:
            port_file = Path(tmp) / "port"
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "facerec.compute.cli",
                    "--log-level",
                    self.log_level,
                    "compute",
                    "--port-file",
                    str(port_file),
                    "--local-socket",
                    str(self.local_socket),
                ],
                # The front end's shared metrics directory is not the compute server's.
                env={
                    **{k: v for k, v in os.environ.items() if k != MULTIPROC_ENV},
                    **config_env(cfg),
                },
                preexec_fn=die_with_parent,
            )
            deadline = time.monotonic() + READY_TIMEOUT_SECONDS
            while not port_file.exists() or not port_file.read_text().strip():
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the compute server exited with {self.proc.returncode}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the compute server did not start in time")
                time.sleep(0.05)
            self.port = int(port_file.read_text().split()[0])
        return self.port

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def keep_running(self, poll_seconds: float = 0.5) -> NoReturn:
        """Starts the child again, on the same port, whenever it exits; never returns.

        Its queue is on disk, so queued and interrupted jobs resume, and the front end
        reconnects by itself; meanwhile it answers 503. Ctrl-C and SIGTERM raise out of this.
        """
        failures = 0
        while True:
            up_since = time.monotonic()
            while self.running():
                time.sleep(poll_seconds)
            if time.monotonic() - up_since >= STABLE_SECONDS:
                failures = 0
            delay = RESTART_DELAYS_SECONDS[min(failures, len(RESTART_DELAYS_SECONDS) - 1)]
            failures += 1
            log.error(
                "the compute server %s; starting it again in %.0f s", self._how_it_ended(), delay
            )
            time.sleep(delay)
            try:
                self.start(self.port)
            except RuntimeError as exc:
                log.error("the compute server did not start again: %s", exc)
            else:
                log.info("the compute server is back on port %d", self.port)

    def _how_it_ended(self) -> str:
        code = self.proc.returncode if self.proc is not None else None
        if code is not None and code < 0:
            return f"was killed by signal {-code}"
        return f"exited with {code}"

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM (graceful: running jobs finish), then SIGKILL after `timeout`."""
        try:
            return self._stop(timeout)
        finally:
            shutil.rmtree(self._local_dir, ignore_errors=True)

    def _stop(self, timeout: float | None) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout or self.cfg.shutdown_grace_seconds + 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
