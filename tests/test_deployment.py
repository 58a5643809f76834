"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine here)."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from facerec.compute import settings
from facerec.compute.cli.main import build_parser
from facerec.compute.config import ComputeConfig, WorkerConfig
from facerec.frontend.config import FrontendConfig

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_run_real_commands_with_known_settings() -> None:
    services = compose()["services"]
    assert set(services) == {"compute", "frontend", "worker", "prometheus"}
    parser = build_parser()
    configs = {"compute": ComputeConfig, "frontend": FrontendConfig, "worker": WorkerConfig}
    for name, svc in services.items():
        if name == "prometheus":
            continue
        args = parser.parse_args(svc["command"])
        assert args.command == name
        known = {settings.env_name(f) for f in configs[name].__dataclass_fields__}
        known.add("FACEREC_LOG_FORMAT")  # read by every command
        assert set(svc["environment"]) <= known, name
        assert svc["build"] == "."


def test_extra_workers_reach_compute_and_share_the_weights() -> None:
    services = compose()["services"]
    compute, worker = services["compute"], services["worker"]
    port = compute["environment"]["FACEREC_GRPC_PORT"]
    assert worker["environment"]["FACEREC_COORDINATOR"] == f"compute:{port}"
    assert worker["environment"]["FACEREC_DEVICE"].startswith("cuda")
    assert worker["volumes"] == ["weights:/cache", "./certs:/certs:ro"]
    assert worker["profiles"] == ["workers"]
    assert worker["depends_on"]["compute"]["condition"] == "service_healthy"


def test_frontend_reaches_compute_by_service_name_and_waits_for_health() -> None:
    services = compose()["services"]
    compute, frontend = services["compute"], services["frontend"]
    port = compute["environment"]["FACEREC_GRPC_PORT"]
    assert compute["environment"]["FACEREC_GRPC_HOST"] == "0.0.0.0"
    assert frontend["environment"]["FACEREC_GRPC_TARGET"] == f"compute:{port}"
    assert frontend["depends_on"]["compute"]["condition"] == "service_healthy"
    assert f"localhost:{port}" in " ".join(compute["healthcheck"]["test"])
    http_port = frontend["environment"]["FACEREC_HTTP_PORT"]
    assert frontend["ports"] == [f"{http_port}:{http_port}"]
    assert compute["environment"]["FACEREC_DEVICE"].startswith("cuda")
    (gpu,) = compute["deploy"]["resources"]["reservations"]["devices"]
    assert gpu["capabilities"] == ["gpu"]


def test_volumes_hold_the_data_and_the_weights() -> None:
    doc = compose()
    mounts = dict(v.split(":")[:2] for v in doc["services"]["compute"]["volumes"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert mounts == {"data": "/data", "weights": "/cache", "./certs": "/certs"}
    assert "FACEREC_DATA_DIR=/data" in dockerfile and "FACEREC_CACHE_DIR=/cache" in dockerfile
    assert set(doc["volumes"]) == {"data", "weights", "prometheus"}


def test_every_grpc_link_uses_mutual_tls_and_workers_a_key() -> None:
    services = compose()["services"]
    env = {name: svc.get("environment", {}) for name, svc in services.items()}
    assert {"FACEREC_TLS_CERT", "FACEREC_TLS_KEY", "FACEREC_TLS_CLIENT_CA"} <= set(env["compute"])
    for client in ("frontend", "worker"):
        assert {"FACEREC_TLS_CA", "FACEREC_TLS_CERT", "FACEREC_TLS_KEY"} <= set(env[client])
        assert "./certs:/certs:ro" in services[client]["volumes"]
    assert "FACEREC_WORKER_KEY" in env["worker"]["FACEREC_API_KEY"]
    assert "FACEREC_REQUIRE_KEYS" not in env["compute"] and "FACEREC_INSECURE" not in env["compute"]
    parser = build_parser()
    cfg = settings.load(ComputeConfig, parser.parse_args(["compute"]), env["compute"])
    from facerec.compute.api.server import check_exposure

    check_exposure(cfg)  # 0.0.0.0 with TLS and keys: allowed


def test_dockerfile_copies_every_package_folder() -> None:
    text = (ROOT / "Dockerfile").read_text()
    copied = {shlex.split(line)[1] for line in text.splitlines() if line.startswith("COPY ")}
    pyproject = (ROOT / "pyproject.toml").read_text()
    for folder in ("protos", "compute", "index", "frontend"):
        assert folder in copied and f'"{folder}' in pyproject
