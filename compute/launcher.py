"""Running `facerec compute` as a child process (used by `facerec serve`).

The models then run in a process of their own, so the front end's threads never wait for
the compute side's interpreter lock, and a crash in native model code cannot take the web
tier down with it.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from facerec.compute.config import ComputeConfig
from facerec.compute.settings import env_name

READY_TIMEOUT_SECONDS = 300.0


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


def die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when the parent dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ComputeChild:
    """A `facerec compute` subprocess; `port` is known once `start()` returns."""

    def __init__(self, cfg: ComputeConfig, log_level: str = "info") -> None:
        self.cfg = cfg
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> int:
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
                ],
                env={**os.environ, **config_env(self.cfg)},
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
            self.port = int(port_file.read_text())
        return self.port

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float) -> int | None:
        """Waits for the child to exit by itself; stops it when it does not in time."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return self.stop()

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM (graceful: running jobs finish), then SIGKILL after `timeout`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout or self.cfg.shutdown_grace_seconds + 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
