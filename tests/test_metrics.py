"""Metrics: the compute server's own endpoint, the front end's summed over its processes,
the Grafana dashboard's queries, and JSON log lines."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import ComputeProcess, ServeProcess, free_port
from tests.helpers import connected, recognize, rpc_error, spec, submit_bytes
from tests.http import http
from tests.test_security import make_key

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30


def samples(text: str) -> dict[str, float]:
    """'name{labels}' -> value for every sample line of Prometheus text."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def value(found: dict[str, float], name: str, **labels: str) -> float:
    """The sum over samples of `name` whose labels include `labels`."""
    total = 0.0
    for key, v in found.items():
        base, _, rest = key.partition("{")
        if base == name and all(f'{k}="{want}"' in rest for k, want in labels.items()):
            total += v
    return total


@pytest.fixture(scope="module")
def compute(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComputeProcess]:
    port = free_port()
    server = ComputeProcess(
        tmp_path_factory.mktemp("metrics") / "data",
        "--metrics-port",
        str(port),
        env={"FACEREC_LOG_FORMAT": "json"},
    ).start()
    server.metrics_url = f"http://127.0.0.1:{port}/metrics"  # type: ignore[attr-defined]
    yield server
    server.terminate()


def test_compute_metrics_count_calls_jobs_stages_and_workers(
    compute: ComputeProcess, faces: Path
) -> None:
    url = compute.metrics_url  # type: ignore[attr-defined]
    with connected(compute) as api:
        job = recognize(api, faces / "obama.jpg")
        assert job.state == 3  # SUCCEEDED
        rpc_error(
            api.recognition.GetJob,
            __import__("facerec.v1.recognition_service_pb2", fromlist=["x"]).GetJobRequest(
                job_id="nope"
            ),
            timeout=10,
        )
        rpc_error(submit_bytes, api, b"not a photo", spec())
    found = samples(
        requests.get(url, headers={"Authorization": f"Bearer {compute.key}"}, timeout=TIMEOUT).text
    )
    assert value(found, "facerec_grpc_requests_total", method="SubmitJob", code="OK") >= 1
    assert value(found, "facerec_grpc_requests_total", method="GetJob", code="NOT_FOUND") == 1
    assert (
        value(found, "facerec_grpc_requests_total", method="SubmitJob", code="INVALID_ARGUMENT")
        == 1
    )
    assert value(found, "facerec_grpc_request_duration_seconds_count", method="SubmitJob") >= 2
    assert value(found, "facerec_jobs", state="succeeded") >= 1
    assert value(found, "facerec_jobs_finished_total", kind="recognize", state="succeeded") >= 1
    assert value(found, "facerec_jobs_submitted_total", kind="recognize") >= 1
    assert value(found, "facerec_job_attempts_total", kind="recognize") >= 1
    for stage in ("detect", "embed", "match"):
        assert value(found, "facerec_stage_duration_seconds_count", stage=stage) >= 1, stage
    assert value(found, "facerec_embed_batch_size_count") >= 1
    assert value(found, "facerec_job_duration_seconds_count", kind="recognize") >= 1
    assert value(found, "facerec_workers_connected") >= 1


def test_compute_metrics_need_a_metrics_or_admin_key(compute: ComputeProcess) -> None:
    url = compute.metrics_url  # type: ignore[attr-defined]
    assert requests.get(url, timeout=TIMEOUT).status_code == 401
    user = make_key(compute, "user")
    answer = requests.get(url, headers={"Authorization": f"Bearer {user}"}, timeout=TIMEOUT)
    assert answer.status_code == 403 and "may not read metrics" in answer.text
    wrong = requests.get(url, headers={"Authorization": "Bearer frk_0_x"}, timeout=TIMEOUT)
    assert wrong.status_code == 401
    metrics_key = make_key(compute, "metrics")
    ok = requests.get(url, headers={"Authorization": f"Bearer {metrics_key}"}, timeout=TIMEOUT)
    assert ok.status_code == 200 and "facerec_workers_connected" in ok.text


def test_json_logs_carry_the_job_id(compute: ComputeProcess, faces: Path) -> None:
    with connected(compute) as api:
        job = recognize(api, faces / "biden.jpg")
    entries = [
        json.loads(line)
        for line in compute.log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    assert entries, "no JSON log lines"
    about = [e for e in entries if e.get("job_id") == job.id]
    assert any("queued" in e["message"] for e in about)
    assert any("SUCCEEDED" in e["message"] for e in about)
    assert {"time", "level", "logger", "message", "pid"} <= set(entries[0])


def test_front_end_metrics_sum_over_its_processes(tmp_path: Path) -> None:
    served = ServeProcess(tmp_path, "--no-local-worker", "--http-processes", "2").start()
    try:
        pids, sent, deadline = set(), 0, time.monotonic() + 30
        # A new connection each: the kernel spreads them over both processes (the second
        # one starts a moment after the first).
        while len(pids) < 2 and time.monotonic() < deadline:
            answer = requests.get(f"{served.url}/healthz", timeout=TIMEOUT)
            pids.add(answer.json()["process"])
            sent += 1
        assert len(pids) == 2, f"both processes should answer: {pids}"
        for _ in range(40):
            assert requests.get(f"{served.url}/healthz", timeout=TIMEOUT).status_code == 200
        for _ in range(6):
            found = samples(http.get(f"{served.url}/metrics", timeout=TIMEOUT).text)
            assert value(found, "facerec_http_requests_total", endpoint="/healthz") == sent + 40
    finally:
        served.terminate()


def test_dashboard_and_prometheus_config_use_real_metric_names(
    compute: ComputeProcess, tmp_path: Path
) -> None:
    served = ServeProcess(tmp_path, "--no-local-worker").start()
    try:
        http.get(f"{served.url}/healthz", timeout=TIMEOUT)
        exposed = http.get(f"{served.url}/metrics", timeout=TIMEOUT).text
    finally:
        served.terminate()
    exposed += requests.get(
        compute.metrics_url,  # type: ignore[attr-defined]
        headers={"Authorization": f"Bearer {compute.key}"},
        timeout=TIMEOUT,
    ).text
    names = set(re.findall(r"^# TYPE (\w+) (\w+)", exposed, re.M))
    known = {n for n, _ in names}
    known |= {
        f"{n}_{s}" for n, kind in names if kind == "histogram" for s in ("bucket", "sum", "count")
    }
    known |= {
        f"{n}_total" if not n.endswith("_total") else n for n, kind in names if kind == "counter"
    }
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for e in exprs for name in re.findall(r"\bfacerec_\w+", e)}
    assert used and used <= known, sorted(used - known)
    # Every metric the service exports is on the dashboard, one way or another.
    families = {n for n, _ in names if n.startswith("facerec_")}
    shown = {re.sub(r"_(bucket|sum|count|total)$", "", u) for u in used}
    assert {re.sub(r"_total$", "", f) for f in families} <= shown
    config = yaml.safe_load((ROOT / "docs" / "prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert targets == {
        f"compute:{compose['compute']['environment']['FACEREC_METRICS_PORT']}",
        "frontend:8080",
    }
    assert (
        "./docs/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in compose["prometheus"]["volumes"]
    )
