"""TLS and mutual TLS between the compute server and every kind of client, with
certificates the test makes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from facerec.compute.cli import client
from facerec.compute.worker.channel import ChannelSecurity
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import job_pb2
from facerec.v1 import key_service_pb2 as kpb
from tests.certs import Pki, make_pki
from tests.conftest import ROOT, ChildProcess, ComputeProcess, ServeProcess, WorkerProcess
from tests.helpers import enroll_person, new_collection, recognize
from tests.http import http


def _flags(pki: Pki, client_cert: bool = True) -> list[str]:
    flags = ["--tls-ca", str(pki.ca)]
    if client_cert:
        flags += ["--tls-cert", str(pki.client_cert), "--tls-key", str(pki.client_key)]
    return flags


def _cli(*args: str, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "facerec.compute.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FACEREC_API_KEY": key},
    )


@pytest.fixture
def mtls(tmp_path: Path, workers: list[ChildProcess]) -> tuple[ComputeProcess, Pki, str]:
    """A compute server that asks for client certificates, and a worker key of it."""
    pki = make_pki(tmp_path / "pki")
    server = ComputeProcess(
        tmp_path / "data",
        "--no-local-worker",
        "--tls-cert",
        str(pki.server_cert),
        "--tls-key",
        str(pki.server_key),
        "--tls-client-ca",
        str(pki.ca),
    )
    workers.append(server.start())
    assert "mutual TLS" in server.log()
    security = ChannelSecurity(server.key, pki.ca, pki.client_cert, pki.client_key)
    with client.connect(server.target, security) as api:
        worker_key = api.keys.CreateKey(
            kpb.CreateKeyRequest(name="tls workers", role=kpb.KEY_ROLE_WORKER), timeout=30
        ).secret
    return server, pki, worker_key


def test_every_client_connects_over_mutual_tls(
    mtls: tuple[ComputeProcess, Pki, str],
    tmp_path: Path,
    faces: Path,
    workers: list[ChildProcess],
    onnx_export: tuple[Path, str],
) -> None:
    server, pki, worker_key = mtls
    target = server.target
    detect = WorkerProcess.python(
        tmp_path, target, "tls-py", "--capabilities", "detect", *_flags(pki)
    )
    node = WorkerProcess.node(tmp_path, target, "tls-node", onnx_export[0], *_flags(pki))
    for w in (detect, node):
        w.key = worker_key
        workers.append(w.start())
    security = ChannelSecurity(server.key, pki.ca, pki.client_cert, pki.client_key)
    with client.connect(target, security) as api:
        collection = new_collection(api)
        enroll_person(api, collection, "Barack Obama", faces / "obama.jpg")
        job = recognize(api, faces / "obama.jpg", collection=collection)
        assert job.state == job_pb2.JOB_STATE_SUCCEEDED
        assert job.faces[0].matches[0].name == "Barack Obama"

    shown = _cli("workers", "--target", target, *_flags(pki), key=server.key)
    assert shown.returncode == 0, shown.stderr
    assert "tls-py" in shown.stdout and "tls-node" in shown.stdout

    node_client = subprocess.run(
        [
            "node",
            str(ROOT / "clients" / "node" / "recognize.js"),
            "--target",
            target,
            "--collection",
            collection,
            *_flags(pki),
            str(faces / "obama.jpg"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FACEREC_API_KEY": server.key},
    )
    assert node_client.returncode == 0, node_client.stderr
    assert "Barack Obama" in node_client.stdout

    front = ServeProcess(
        tmp_path / "front",
        "--grpc-target",
        target,
        *_flags(pki),
        command="frontend",
        key=server.key,
    )
    front.start()
    try:
        assert http.get(f"{front.url}/readyz").status_code == 200
        files = {"image": ("o.jpg", (faces / "obama2.jpg").read_bytes(), "image/jpeg")}
        posted = http.post(f"{front.url}/api/v1/jobs", files=files)
        assert posted.status_code == 202, posted.text
        with client.connect(target, security) as api:
            assert api.wait(posted.json()["id"]).state == job_pb2.JOB_STATE_SUCCEEDED
    finally:
        front.kill()


def test_wrong_ca_missing_client_certificate_and_plain_text_are_refused(
    mtls: tuple[ComputeProcess, Pki, str], tmp_path: Path
) -> None:
    server, pki, _ = mtls
    stranger = make_pki(tmp_path / "other", "someone else")
    wrong_ca = _cli(
        "workers", "--target", server.target, "--tls-ca", str(stranger.ca), key=server.key
    )
    assert wrong_ca.returncode == 1
    assert "UNAVAILABLE" in wrong_ca.stderr and "CERTIFICATE_VERIFY_FAILED" in wrong_ca.stderr
    foreign_client = [*_flags(stranger)[2:], "--tls-ca", str(pki.ca)]
    for flags in (_flags(pki, client_cert=False), foreign_client):
        refused = _cli("workers", "--target", server.target, *flags, key=server.key)
        assert refused.returncode == 1 and "UNAVAILABLE" in refused.stderr, refused.stderr
    with client.connect(server.target, server.key) as api:  # no TLS at all
        with pytest.raises(grpc.RpcError) as info:
            api.gallery.ListCollections(gpb.ListCollectionsRequest(), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_tls_without_client_certificates(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    pki = make_pki(tmp_path / "pki")
    server = ComputeProcess(
        tmp_path / "data",
        "--no-local-worker",
        "--tls-cert",
        str(pki.server_cert),
        "--tls-key",
        str(pki.server_key),
    )
    workers.append(server.start())
    assert "(model facenet-untrained, TLS, API keys required)" in server.log()
    shown = _cli("workers", "--target", server.target, "--tls-ca", str(pki.ca), key=server.key)
    assert shown.returncode == 0 and "no workers connected" in shown.stdout, shown.stderr
    # The Node client reaches the server over TLS: the answer is the server's own refusal.
    node_client = subprocess.run(
        [
            "node",
            str(ROOT / "clients" / "node" / "recognize.js"),
            "--target",
            server.target,
            "--tls-ca",
            str(pki.ca),
            "--collection",
            "no-such-collection",
            str(faces / "obama.jpg"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FACEREC_API_KEY": server.key},
    )
    assert node_client.returncode == 1
    assert "NOT_FOUND: collection 'no-such-collection' does not exist" in node_client.stderr
    with client.connect(server.target, server.key) as api:  # plain text to a TLS port
        with pytest.raises(grpc.RpcError) as info:
            api.gallery.ListCollections(gpb.ListCollectionsRequest(), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
