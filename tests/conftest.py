"""Fixtures: real compute servers in subprocesses on ephemeral ports, and the test photos."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from facerec.compute.cli import client
from facerec.v1 import key_service_pb2 as kpb
from tests import http
from tests.helpers import child_pids, connected

ROOT = Path(__file__).resolve().parents[1]
FACES = Path(os.environ.get("FACEREC_TEST_FACES", ROOT.parent / "shared" / "faces"))
READY_DEADLINE = 120.0
_LISTENING = re.compile(r"listening on (\S+):(\d+)")


def wait_for_line(
    proc: subprocess.Popen[bytes],
    log_path: Path,
    pattern: re.Pattern[str],
    name: str,
    kill: Callable[[], None],
) -> re.Match[str]:
    """Waits until a started process logs a line matching `pattern` (its ready line)."""
    deadline = time.monotonic() + READY_DEADLINE
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        found = pattern.search(text)
        if found:
            return found
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{text}")
        time.sleep(0.1)
    kill()
    raise RuntimeError(f"{name} not ready in {READY_DEADLINE}s:\n{log_path.read_text()}")


class ChildProcess:
    """A started command whose output goes to `log_path`."""

    proc: subprocess.Popen[bytes] | None
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def terminate(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


class ComputeProcess(ChildProcess):
    """`facerec compute` in a subprocess; its log goes to a file beside its data."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.extra = extra
        self.env = {**os.environ, "FACEREC_WEIGHTS_URL": "", **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.target = ""
        self.starts = 0
        self._worker_key = ""

    @property
    def key(self) -> str:
        """The admin key the server wrote on its first start ('' with keys off)."""
        path = self.data_dir / "admin.key"
        return path.read_text().strip() if path.exists() else ""

    @property
    def worker_key(self) -> str:
        """A worker key of this server, made on first use."""
        if not self._worker_key and self.key:
            with client.connect(self.target, self.key) as api:
                self._worker_key = api.keys.CreateKey(
                    kpb.CreateKeyRequest(name="test workers", role=kpb.KEY_ROLE_WORKER),
                    timeout=30,
                ).secret
        return self._worker_key

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-compute-{self.starts}.log"

    def start(self) -> ComputeProcess:
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        cmd = [
            sys.executable,
            "-m",
            "facerec.compute.cli",
            "compute",
            "--grpc-port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--cache-dir",
            str(self.data_dir / "cache"),
            "--allow-untrained",
            "--torch-threads",
            "2",
            "--webhook-backoff-seconds",
            "0.3",
            # The webhook receivers of the tests listen on loopback.
            "--webhook-allow-networks",
            "127.0.0.0/8",
            *self.extra,
        ]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        found = wait_for_line(self.proc, self.log_path, _LISTENING, "compute", self.kill)
        self.target = f"{found.group(1)}:{found.group(2)}"
        return self


@pytest.fixture(scope="session")
def faces() -> Path:
    if not (FACES / "obama.jpg").exists():
        pytest.fail(f"test photos not found in {FACES} (set FACEREC_TEST_FACES)")
    return FACES


@pytest.fixture(scope="session")
def compute(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComputeProcess]:
    """One compute server shared by the tests that do not restart it."""
    server = ComputeProcess(tmp_path_factory.mktemp("shared") / "data").start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def api(compute: ComputeProcess) -> Iterator[client.Api]:
    with connected(compute) as a:
        yield a


@pytest.fixture
def fresh_compute(tmp_path: Path) -> Iterator[ComputeProcess]:
    """A compute server of the test's own, which the test may kill and restart."""
    server = ComputeProcess(tmp_path / "data")
    yield server
    server.kill()


_RUNNING_AT = re.compile(r"facerec is running at (http://\S+?)/? ")
_FRONT_AT = re.compile(r"facerec front end at (http://\S+?)/?$", re.M)
_LOGIN_AT = re.compile(r"log in from a browser: (http://\S+)")
_COMPUTE_PORT = re.compile(r"compute server on port (\d+)")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess(ChildProcess):
    """`facerec serve` (or `facerec frontend`) in a subprocess; `url` is the front end's."""

    def __init__(self, workdir: Path, *args: str, command: str = "serve", key: str = "") -> None:
        """`key`: the API key a front end alone uses in tests (its compute server's)."""
        self.workdir = workdir
        self._key = key
        self.args = args
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.login_url = ""
        self.compute_target = ""
        self.log_path = workdir / f"{command}.log"

    def start(self) -> ServeProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "facerec.compute.cli",
            self.command,
            "--http-port",
            "0",
            # One process unless a test asks for more: its counters and limits are per process.
            "--http-processes",
            "1",
            *self.args,
        ]
        if self.command == "serve":
            cmd += [
                "--grpc-port",
                "0",
                "--data-dir",
                str(self.workdir / "data"),
                "--allow-untrained",
                "--torch-threads",
                "2",
            ]
        env = {**os.environ, "FACEREC_WEIGHTS_URL": ""}
        self.proc = subprocess.Popen(
            cmd,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        pattern = _RUNNING_AT if self.command == "serve" else _FRONT_AT
        found = wait_for_line(self.proc, self.log_path, pattern, self.command, self.kill)
        self.url = found.group(1)
        if self.command == "serve":
            login = wait_for_line(self.proc, self.log_path, _LOGIN_AT, "serve", self.kill)
            self.login_url = login.group(1)
            port = _COMPUTE_PORT.search(self.log())
            self.compute_target = f"127.0.0.1:{port.group(1)}" if port else ""
        http.KEYS[self.url] = self.key
        return self

    @property
    def key(self) -> str:
        """The admin key of `facerec serve`'s data directory (or the one given)."""
        path = self.workdir / "data" / "admin.key"
        return self._key or (path.read_text().strip() if path.exists() else "")

    def kill(self) -> None:
        """SIGKILL to the whole process group (the front end and its compute child)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def interrupt(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout)

    def compute_pid(self) -> int:
        """The pid of `facerec serve`'s compute child, from /proc."""
        assert self.proc is not None
        found = child_pids(self.proc.pid, b"compute")
        if not found:
            raise AssertionError(f"no compute child:\n{self.log()}")
        return found[0]


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """`facerec serve`: compute, its worker and the front end in one process."""
    server = ServeProcess(tmp_path_factory.mktemp("serve"), "--sse-keepalive-seconds", "0.5")
    server.start()
    yield server
    server.kill()


_WORKER_CONNECTED = re.compile(r"connected to \S+ as (\S+) \(session (\S+),")
NODE_WORKER = ROOT / "workers" / "node" / "worker.js"


class WorkerProcess(ChildProcess):
    """`facerec worker` (or the Node worker) in a subprocess, ready once its session started."""

    def __init__(self, workdir: Path, cmd: list[str], name: str, key: str = "") -> None:
        self.workdir = workdir
        self.cmd = cmd
        self.name = name
        self.key = key
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.session = ""

    @classmethod
    def python(
        cls, workdir: Path, coordinator: ComputeProcess | str, name: str, *extra: str
    ) -> WorkerProcess:
        """A `facerec worker` of `coordinator` (with its worker key when it is a server)."""
        key = coordinator.worker_key if isinstance(coordinator, ComputeProcess) else ""
        if isinstance(coordinator, ComputeProcess):
            coordinator = coordinator.target
        cmd = [
            sys.executable,
            "-m",
            "facerec.compute.cli",
            "worker",
            "--coordinator",
            coordinator,
            "--worker-id",
            name,
            "--allow-untrained",
            "--cache-dir",
            str(workdir / "cache"),
            "--torch-threads",
            "2",
            *extra,
        ]
        return cls(workdir, cmd, name, key)

    @classmethod
    def node(
        cls, workdir: Path, coordinator: ComputeProcess | str, name: str, model: Path, *extra: str
    ) -> WorkerProcess:
        key = coordinator.worker_key if isinstance(coordinator, ComputeProcess) else ""
        if isinstance(coordinator, ComputeProcess):
            coordinator = coordinator.target
        cmd = ["node", str(NODE_WORKER), "--coordinator", coordinator, "--model", str(model)]
        return cls(workdir, [*cmd, "--worker-id", name, *extra], name, key)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"worker-{self.name}-{self.starts}.log"

    def launch(self) -> WorkerProcess:
        """Starts the process without waiting for its session."""
        self.starts += 1
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "FACEREC_WEIGHTS_URL": "", "FACEREC_API_KEY": self.key}
        self.proc = subprocess.Popen(
            self.cmd, stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT, env=env
        )
        return self

    def start(self) -> WorkerProcess:
        self.launch()
        assert self.proc is not None
        found = wait_for_line(self.proc, self.log_path, _WORKER_CONNECTED, self.name, self.kill)
        self.session = found.group(2)
        return self


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[ChildProcess]]:
    """Processes a test starts (workers, their coordinators); all killed afterwards."""
    started: list[ChildProcess] = []
    yield started
    for w in started:
        w.kill()


def _export_onnx(out: Path, *flags: str) -> str:
    """Runs `facerec export-onnx` into `out`; returns its output."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "facerec.compute.cli",
            "export-onnx",
            str(out),
            "--cache-dir",
            str(out.parent / "cache"),
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FACEREC_WEIGHTS_URL": ""},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="session")
def onnx_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`facerec export-onnx` of the untrained embedder: the file and the command's output."""
    out = tmp_path_factory.mktemp("onnx") / "embedder.onnx"
    return out, _export_onnx(out, "--model", "facenet-untrained", "--allow-untrained")


@pytest.fixture(scope="session")
def onnx_sface(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`facerec export-onnx --model sface`: the folded SFace graph for the Node worker."""
    out = tmp_path_factory.mktemp("onnx-sface") / "sface.onnx"
    assert "model sface" in _export_onnx(out, "--model", "sface")
    return out


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium, driven by Playwright (which downloads no browser)."""
    import shutil

    from playwright.sync_api import sync_playwright

    from tests.browser import ARGS, CHROMIUM

    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run the README's setup command (make setup)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
