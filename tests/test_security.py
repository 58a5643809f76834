"""API keys and roles over gRPC and HTTP, login links, revocation, browser protections."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
import requests

from facerec.compute.api.auth import METHOD_ROLES, OPEN_METHODS
from facerec.compute.cli import client
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import job_pb2, key_service_pb2, recognition_service_pb2
from facerec.v1 import key_service_pb2 as kpb
from facerec.v1 import recognition_service_pb2 as rpb
from facerec.v1 import worker_service_pb2 as wpb
from tests.conftest import ComputeProcess, ServeProcess, WorkerProcess
from tests.helpers import connected, rpc_error, spec, submit_bytes, unique
from tests.http import http

TIMEOUT = 30
ROLES = {"admin": 1, "user": 2, "worker": 3, "metrics": 4}


def make_key(server: ComputeProcess | ServeProcess, role: str, name: str = "") -> str:
    target = getattr(server, "compute_target", "") or server.target  # type: ignore[union-attr]
    with connected(target, server.key) as api:
        return api.keys.CreateKey(
            kpb.CreateKeyRequest(name=name or f"{role} key", role=ROLES[role]), timeout=10
        ).secret


@pytest.fixture(scope="module")
def keys(compute: ComputeProcess) -> dict[str, str]:
    made = {role: make_key(compute, role) for role in ("user", "worker", "metrics")}
    return {"admin": compute.key, **made}


def _calls(api: client.Api) -> dict[str, object]:
    """One call per kind of permission, each answered without error by a role allowed it."""
    return {
        "CreateCollection": lambda: api.gallery.CreateCollection(
            gpb.CreateCollectionRequest(name=unique()), timeout=10
        ),
        "ListCollections": lambda: api.gallery.ListCollections(
            gpb.ListCollectionsRequest(), timeout=10
        ),
        "ListJobs": lambda: api.recognition.ListJobs(rpb.ListJobsRequest(), timeout=10),
        "ListWebhookDeliveries": lambda: api.recognition.ListWebhookDeliveries(
            rpb.ListWebhookDeliveriesRequest(alert_id=1), timeout=10
        ),
        "ListWorkers": lambda: api.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=10),
        "ListKeys": lambda: api.keys.ListKeys(kpb.ListKeysRequest(), timeout=10),
        "GetCaller": lambda: api.keys.GetCaller(kpb.GetCallerRequest(), timeout=10),
    }


ALLOWED = {
    "CreateCollection": {"admin"},
    "ListCollections": {"admin", "user"},
    "ListJobs": {"admin", "user"},
    "ListWebhookDeliveries": {"admin"},
    "ListWorkers": {"admin", "metrics"},
    "ListKeys": {"admin"},
    "GetCaller": {"admin", "user", "worker", "metrics"},
}


@pytest.mark.parametrize("role", ["admin", "user", "worker", "metrics"])
def test_each_role_may_make_exactly_its_calls(
    compute: ComputeProcess, keys: dict[str, str], role: str
) -> None:
    with connected(compute.target, keys[role]) as api:
        for method, call in _calls(api).items():
            if role in ALLOWED[method]:
                try:
                    call()  # type: ignore[operator]
                except grpc.RpcError as exc:
                    # Allowed through: any answer but a refusal (alert 1 may not exist).
                    assert exc.code() == grpc.StatusCode.NOT_FOUND, (method, exc.details())
            else:
                err = rpc_error(call)
                assert err.code() == grpc.StatusCode.PERMISSION_DENIED, (method, role)
                assert f"a {role} key may not call {method}" in err.details()


def test_every_method_has_its_roles() -> None:
    """A method missing from the table would be refused to everyone; none is."""
    from facerec.v1 import gallery_service_pb2, worker_service_pb2

    for module in (
        recognition_service_pb2,
        gallery_service_pb2,
        worker_service_pb2,
        key_service_pb2,
    ):
        for service in module.DESCRIPTOR.services_by_name.values():
            for m in service.methods:
                path = f"/{service.full_name}/{m.name}"
                assert path in METHOD_ROLES or path in OPEN_METHODS, path


def test_missing_wrong_and_revoked_keys_are_unauthenticated(
    compute: ComputeProcess, faces: Path
) -> None:
    for key, says in [
        ("", "this call needs an API key"),
        ("frk_0123456789abcdef_" + "x" * 43, "unknown API key"),
        ("hunter2", "that is not a facerec API key"),
    ]:
        with client.connect(compute.target, key) as api:
            err = rpc_error(api.recognition.ListJobs, rpb.ListJobsRequest(), timeout=10)
            assert err.code() == grpc.StatusCode.UNAUTHENTICATED and says in err.details()
    doomed = make_key(compute, "user", "doomed")
    with connected(compute.target, doomed) as api:
        api.recognition.ListJobs(rpb.ListJobsRequest(), timeout=10)
        with connected(compute) as admin:
            key_id = admin.keys.GetCaller(kpb.GetCallerRequest(), timeout=10)
            assert key_id.key.role == kpb.KEY_ROLE_ADMIN
            listed = admin.keys.ListKeys(kpb.ListKeysRequest(), timeout=10).keys
            (entry,) = [k for k in listed if k.name == "doomed"]
            admin.keys.RevokeKey(kpb.RevokeKeyRequest(key_id=entry.id), timeout=10)
        err = rpc_error(api.recognition.ListJobs, rpb.ListJobsRequest(), timeout=10)
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED and "was revoked" in err.details()
    # Health checks need no key.
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(compute.target) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING


def test_users_see_only_their_own_jobs(
    compute: ComputeProcess, keys: dict[str, str], faces: Path
) -> None:
    other = make_key(compute, "user", "another user")
    with connected(compute.target, keys["user"]) as mine:
        job = submit_bytes(mine, (faces / "obama.jpg").read_bytes(), spec(request_id="same"))
        assert mine.recognition.GetJob(rpb.GetJobRequest(job_id=job.id), timeout=10).job.id
    with connected(compute.target, other) as theirs:
        for call, req in [
            (theirs.recognition.GetJob, rpb.GetJobRequest(job_id=job.id)),
            (theirs.recognition.CancelJob, rpb.CancelJobRequest(job_id=job.id)),
        ]:
            assert rpc_error(call, req, timeout=10).code() == grpc.StatusCode.NOT_FOUND
        watch = theirs.recognition.WatchJob(rpb.WatchJobRequest(job_id=job.id), timeout=10)
        assert rpc_error(lambda: list(watch)).code() == grpc.StatusCode.NOT_FOUND
        listed = theirs.recognition.ListJobs(rpb.ListJobsRequest(page_size=500), timeout=10)
        assert job.id not in {j.id for j in listed.jobs}
        # The same request id from another key is another job, never theirs.
        again = submit_bytes(theirs, (faces / "obama.jpg").read_bytes(), spec(request_id="same"))
        assert again.id != job.id
    with connected(compute) as admin:
        everyone = admin.recognition.ListJobs(rpb.ListJobsRequest(page_size=500), timeout=10)
        assert {job.id, again.id} <= {j.id for j in everyone.jobs}
        assert admin.wait(job.id).state == job_pb2.JOB_STATE_SUCCEEDED


def test_a_revoked_key_ends_its_open_stream(compute: ComputeProcess) -> None:
    key = make_key(compute, "user", "streaming")
    with connected(compute.target, key) as api:
        stream = api.recognition.WatchAlerts(rpb.WatchAlertsRequest(), timeout=60)
        ended: list[grpc.RpcError] = []

        def read() -> None:
            try:
                for _ in stream:
                    pass
            except grpc.RpcError as exc:
                ended.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(1.0)
        assert reader.is_alive()  # open, waiting for alerts
        started = time.monotonic()
        with connected(compute) as admin:
            admin.keys.RevokeKey(kpb.RevokeKeyRequest(key_id=key), timeout=10)
        reader.join(10)
        assert not reader.is_alive() and time.monotonic() - started < 5
    assert ended[0].code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in ended[0].details()


def test_a_worker_needs_a_worker_key(
    compute: ComputeProcess, keys: dict[str, str], tmp_path: Path
) -> None:
    for key, says in [
        (keys["user"], "a user key may not call Work; it needs a worker key"),
        ("", "this call needs an API key"),
    ]:
        worker = WorkerProcess.python(tmp_path, compute.target, "stranger")
        worker.key = key
        worker.launch()
        assert worker.proc is not None
        assert worker.proc.wait(120) == 2
        assert says in worker.log()
    # A revoked worker key ends the worker's session, and the worker says why.
    worker_key = make_key(compute, "worker", "revoked worker")
    worker = WorkerProcess.python(tmp_path, compute.target, "revokee")
    worker.key = worker_key
    worker.start()
    with connected(compute) as admin:
        admin.keys.RevokeKey(kpb.RevokeKeyRequest(key_id=worker_key), timeout=10)
    assert worker.proc is not None and worker.proc.wait(60) == 2
    assert "revoked" in worker.log()


def test_keys_cli_creates_lists_and_revokes(compute: ComputeProcess, tmp_path: Path) -> None:
    def facerec(*args: str, key: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "FACEREC_TARGET": compute.target, "FACEREC_API_KEY": key}
        return subprocess.run(
            [sys.executable, "-m", "facerec.compute.cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    made = facerec("keys", "create", "--role", "metrics", "--name", "grafana", key=compute.key)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("frk_") and "shown only this once" in made.stderr
    listed = facerec("keys", "list", key=compute.key)
    assert "grafana" in listed.stdout and secret not in listed.stdout
    # The data directory's admin key is found without a flag.
    found = facerec("keys", "list", "--data-dir", str(compute.data_dir))
    assert found.returncode == 0 and "first admin key" in found.stdout
    denied = facerec("keys", "list", key=secret)
    assert denied.returncode == 1 and "PERMISSION_DENIED" in denied.stderr
    key_id = secret.split("_")[1]
    assert facerec("keys", "revoke", key_id, key=compute.key).returncode == 0
    assert "UNAUTHENTICATED" in facerec("workers", key=secret).stderr
    assert (compute.data_dir / "admin.key").stat().st_mode & 0o077 == 0


# HTTP


def test_http_roles_and_errors(served: ServeProcess) -> None:
    url = served.url
    anonymous = requests.get(f"{url}/api/v1/jobs", timeout=TIMEOUT)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "UNAUTHENTICATED"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    user = {"Authorization": f"Bearer {make_key(served, 'user')}"}
    metrics = {"Authorization": f"Bearer {make_key(served, 'metrics')}"}
    assert requests.get(f"{url}/api/v1/jobs", headers=user, timeout=TIMEOUT).status_code == 200
    refused = requests.post(
        f"{url}/api/v1/collections", json={"name": unique()}, headers=user, timeout=TIMEOUT
    )
    assert refused.status_code == 403
    assert "a user key may not call CreateCollection" in refused.json()["error"]["message"]
    assert http.post(f"{url}/api/v1/collections", json={"name": unique()}).status_code == 201
    assert requests.get(f"{url}/metrics", timeout=TIMEOUT).status_code == 401
    assert requests.get(f"{url}/metrics", headers=user, timeout=TIMEOUT).status_code == 403
    scraped = requests.get(f"{url}/metrics", headers=metrics, timeout=TIMEOUT)
    assert scraped.status_code == 200 and "facerec_" in scraped.text
    assert requests.get(f"{url}/api/v1/jobs", headers=metrics, timeout=TIMEOUT).status_code == 403
    # Liveness and readiness stay open for load balancers.
    assert requests.get(f"{url}/healthz", timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{url}/readyz", timeout=TIMEOUT).status_code == 200


def test_login_link_sets_a_strict_http_only_cookie_once(served: ServeProcess) -> None:
    from facerec.compute.cli.key_commands import login_url

    with connected(served.compute_target, served.key) as api:
        link = login_url(api, served.url)
    session = requests.Session()
    first = session.get(link, allow_redirects=False, timeout=TIMEOUT)
    assert first.status_code == 303 and first.headers["Location"] == "/"
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert session.get(f"{served.url}/api/v1/jobs", timeout=TIMEOUT).status_code == 200
    reused = requests.get(link, allow_redirects=False, timeout=TIMEOUT)
    assert reused.status_code == 401 and "used already" in reused.json()["error"]["message"]
    assert requests.get(f"{served.url}/login?token=nope", timeout=TIMEOUT).status_code == 401


def test_cross_site_requests_and_foreign_hosts_are_refused(served: ServeProcess) -> None:
    url = served.url
    name = unique()
    for headers in [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null"},
    ]:
        r = http.post(f"{url}/api/v1/collections", json={"name": name}, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "CROSS_SITE", headers
    same = http.post(
        f"{url}/api/v1/collections",
        json={"name": name},
        headers={"Origin": url, "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 201
    rebound = http.get(f"{url}/api/v1/jobs", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400 and rebound.json()["error"]["code"] == "HOST_NOT_ALLOWED"
    assert http.get(f"{url}/api/v1/jobs", headers={"Host": "localhost"}).status_code == 200
    page = requests.get(f"{url}/", timeout=TIMEOUT)
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert http.get(f"{url}/api/v1/jobs").headers["Cache-Control"] == "no-store"


def test_listening_beyond_loopback_needs_tls_and_keys(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "facerec.compute.cli",
            "compute",
            "--grpc-host",
            "0.0.0.0",
            "--grpc-port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
            "--allow-untrained",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0 without TLS (--tls-cert, --tls-key)" in done.stderr
    assert "--insecure" in done.stderr
