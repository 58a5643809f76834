"""Webhooks reach public addresses only: every spelling of an internal one is refused when
registered, and a name that resolves to one is refused when delivering."""

from __future__ import annotations

import ipaddress
import socket
import time
from pathlib import Path

import grpc
import pytest

from facerec.compute.dispatch.egress import EgressPolicy, EgressRefused, why_internal
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import recognition_service_pb2 as rpb
from tests.conftest import ChildProcess, ComputeProcess
from tests.helpers import connected, enroll_person, recognize, rpc_error, unique
from tests.webhook_receiver import Receiver

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://0x7f.1/hook",
    "http://017700000001/hook",
    "http://0/hook",
    "http://localhost:8080/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:7f00:1]/hook",
    "http://[2002:7f00:1::]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://[fd00:ec2::254]/hook",
    "http://10.0.0.1/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.1/hook",
    "http://100.100.100.200/hook",
    "http://224.0.0.251/hook",
    "https://255.255.255.255/hook",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_the_policy_refuses_every_internal_spelling(url: str) -> None:
    with pytest.raises(EgressRefused, match="refused to connect to"):
        EgressPolicy().check_literal(url)


def test_the_policy_allows_public_addresses_and_allowed_networks() -> None:
    EgressPolicy().check_literal("https://8.8.8.8/hook")
    EgressPolicy().check_literal("https://hooks.example.com/x")  # a name: checked when sent
    allowed = EgressPolicy((ipaddress.ip_network("127.0.0.0/8"),))
    allowed.check_literal("http://127.0.0.1:9/hook")
    assert allowed.resolve("127.0.0.1", 80) == [ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(EgressRefused, match="a private address"):
        allowed.check_literal("http://10.1.1.1/")


def test_webhooks_to_internal_addresses_are_refused(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    server = ComputeProcess(tmp_path / "data", "--webhook-allow-networks", "")
    workers.append(server.start())
    receiver = Receiver().start()
    host = socket.gethostname()
    resolved = ipaddress.ip_address(socket.getaddrinfo(host, 80)[0][4][0])
    assert why_internal(resolved), f"{host} resolves to a public address: pick another name"
    try:
        with connected(server) as api:
            for url in INTERNAL[:8] + INTERNAL[10:16]:
                err = rpc_error(
                    api.gallery.CreateCollection,
                    gpb.CreateCollectionRequest(
                        name=unique(), webhooks=[gpb.WebhookSpec(url=url, secret="s" * 16)]
                    ),
                    timeout=10,
                )
                assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, url
                assert "refused to connect to" in err.details(), err.details()
            # A name passes registration; what it resolves to is refused when delivering.
            port = receiver.server.server_address[1]
            watch = unique("w")
            api.gallery.CreateCollection(
                gpb.CreateCollectionRequest(
                    name=watch,
                    alert_on_match=True,
                    alert_threshold=0.95,
                    webhooks=[gpb.WebhookSpec(url=f"http://{host}:{port}/hook", secret="s" * 16)],
                ),
                timeout=10,
            )
            enroll_person(api, watch, "Watched", faces / "obama.jpg")
            recognize(api, faces / "obama.jpg", collection=watch)
            (alert,) = api.recognition.ListAlerts(
                rpb.ListAlertsRequest(collection=watch), timeout=10
            ).alerts
            deadline = time.monotonic() + 30
            while True:
                (delivery,) = api.recognition.ListWebhookDeliveries(
                    rpb.ListWebhookDeliveriesRequest(alert_id=alert.id), timeout=10
                ).deliveries
                if delivery.attempts:
                    break
                assert time.monotonic() < deadline, "no delivery attempt"
                time.sleep(0.2)
            error = delivery.attempts[0].error
            assert f"refused to connect to {host} ({resolved})" in error, error
            assert receiver.requests == []
    finally:
        receiver.stop()
