"""Health, reflection and configuration of the compute server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from facerec.compute import settings
from facerec.compute.cli.client import Api
from facerec.compute.config import ComputeConfig
from facerec.compute.models.embedder import UNTRAINED_MODEL_ID
from tests.conftest import ComputeProcess


def test_health_reports_serving(api: Api) -> None:
    stub = health_pb2_grpc.HealthStub(api.channel)
    for service in ("", "facerec.v1.RecognitionService", "facerec.v1.GalleryService"):
        resp = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_both_services(api: Api) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(api.channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    )
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {
        "facerec.v1.RecognitionService",
        "facerec.v1.GalleryService",
        "grpc.health.v1.Health",
    } <= names


def test_env_vars_configure_and_flags_win(tmp_path: Path) -> None:
    env = {
        "FACEREC_GRPC_PORT": "6000",
        "FACEREC_ALLOW_UNTRAINED": "true",
        "FACEREC_DATA_DIR": str(tmp_path),
        "FACEREC_WORKERS": "3",
    }
    cfg = settings.load(ComputeConfig, environ=env)
    assert (cfg.grpc_port, cfg.allow_untrained, cfg.data_dir, cfg.workers) == (
        6000,
        True,
        tmp_path,
        3,
    )
    parser = __import__("facerec.compute.cli.main", fromlist=["build_parser"]).build_parser()
    flags = parser.parse_args(["compute", "--grpc-port", "7000", "--no-allow-untrained"])
    cfg = settings.load(ComputeConfig, flags, environ=env)
    assert (cfg.grpc_port, cfg.allow_untrained, cfg.workers) == (7000, False, 3)


def _run_compute(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`facerec compute` with `args`, a fresh data and cache directory and no weights URL."""
    env = {**os.environ, "FACEREC_WEIGHTS_URL": ""}
    env.pop("FACEREC_ALLOW_UNTRAINED", None)
    dirs = ["--data-dir", str(tmp_path / "d"), "--cache-dir", str(tmp_path / "c")]
    return subprocess.run(
        [sys.executable, "-m", "facerec.compute.cli", "compute", *args, *dirs],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_facenet_asked_for_without_its_weights_exits_with_advice(tmp_path: Path) -> None:
    proc = _run_compute(tmp_path, "--grpc-port", "0", "--model", "facenet-vggface2")
    assert proc.returncode == 2
    assert "FACEREC_WEIGHTS_PATH" in proc.stderr and "--model sface" in proc.stderr


def test_the_untrained_network_is_refused_without_allow_untrained(tmp_path: Path) -> None:
    proc = _run_compute(tmp_path, "--grpc-port", "0", "--model", "facenet-untrained")
    assert proc.returncode == 2
    assert "--allow-untrained" in proc.stderr and "recognises nobody" in proc.stderr
    unknown = _run_compute(tmp_path, "--grpc-port", "0", "--model", "arcface")
    assert unknown.returncode == 2 and "unknown model 'arcface'" in unknown.stderr


def test_a_smallest_face_out_of_range_is_refused_at_start(tmp_path: Path) -> None:
    proc = _run_compute(tmp_path, "--grpc-port", "0", "--allow-untrained", "--min-face-size", "5")
    assert proc.returncode == 2, proc.stderr
    assert "--min-face-size must be 12-4096 pixels (got 5)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_untrained_model_is_announced(compute: ComputeProcess) -> None:
    assert f"model {UNTRAINED_MODEL_ID}" in compute.log()
    assert "UNTRAINED" in compute.log()


def test_a_taken_grpc_port_is_refused_plainly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _run_compute(tmp_path, "--grpc-port", str(port), "--allow-untrained")
    assert proc.returncode == 2, proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "--grpc-port" in proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
