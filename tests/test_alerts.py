"""Watchlists raise alerts: durable log, resumable stream, signed webhooks with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from pathlib import Path

import grpc
import pytest

from facerec.compute.cli import client
from facerec.compute.dispatch.webhooks import SIGNATURE_HEADER
from facerec.v1 import alert_pb2, job_pb2
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import recognition_service_pb2 as rpb
from tests.conftest import ComputeProcess
from tests.helpers import enroll_person, recognize, rpc_error, unique
from tests.webhook_receiver import Receiver

SECRET = "s3cret-for-tests-only"
# Untrained weights: only the identical photo reaches this (see test_recognition).
THRESHOLD = 0.95


def watchlist(api: client.Api, *hooks: str, threshold: float = THRESHOLD) -> str:
    name = unique("w")
    api.gallery.CreateCollection(
        gpb.CreateCollectionRequest(
            name=name,
            alert_on_match=True,
            alert_threshold=threshold,
            webhooks=[gpb.WebhookSpec(url=u, secret=SECRET) for u in hooks],
        ),
        timeout=10,
    )
    return name


def alerts_for(api: client.Api, collection: str) -> list[alert_pb2.Alert]:
    return list(
        api.recognition.ListAlerts(rpb.ListAlertsRequest(collection=collection), timeout=10).alerts
    )


def verify(secret: str, header: str, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


def test_one_alert_for_a_watched_face_none_otherwise(api: client.Api, faces: Path) -> None:
    watch = watchlist(api)
    obama = enroll_person(api, watch, "Barack Obama", faces / "obama.jpg")
    plain = unique()
    api.gallery.CreateCollection(gpb.CreateCollectionRequest(name=plain), timeout=10)
    enroll_person(api, plain, "Joe Biden", faces / "biden.jpg")

    listed = {
        c.name: c
        for c in api.gallery.ListCollections(gpb.ListCollectionsRequest(), timeout=10).collections
    }
    assert listed[watch].alert_on_match and not listed[plain].alert_on_match
    assert abs(listed[watch].alert_threshold - THRESHOLD) < 1e-6

    job = recognize(api, faces / "obama.jpg")
    (alert,) = alerts_for(api, watch)
    assert (alert.job_id, alert.identity_id, alert.name) == (job.id, obama, "Barack Obama")
    assert alert.similarity >= THRESHOLD and alert.face_index == 0
    assert alert.box.x2 > alert.box.x1

    recognize(api, faces / "biden.jpg")  # matches only the plain collection
    assert len(alerts_for(api, watch)) == 1
    assert not alerts_for(api, plain)


def test_reconnecting_watcher_gets_the_rest_once(api: client.Api, faces: Path) -> None:
    watch = watchlist(api)
    enroll_person(api, watch, "Obama", faces / "obama.jpg")
    jobs = [api.submit(faces / "obama.jpg", job_pb2.JobSpec()).id for _ in range(3)]
    for j in jobs:
        api.wait(j)

    stream = api.recognition.WatchAlerts(rpb.WatchAlertsRequest(collection=watch))
    first = next(stream).alert
    stream.cancel()  # the watcher goes away after the first alert

    rest: list[int] = []
    again = api.recognition.WatchAlerts(
        rpb.WatchAlertsRequest(collection=watch, after_alert_id=first.id), timeout=5
    )
    with pytest.raises(grpc.RpcError) as info:  # the stream never ends: read until the deadline
        for msg in again:
            rest.append(msg.alert.id)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert len(rest) == 2 and len(set(rest)) == 2 and all(i > first.id for i in rest)
    assert sorted({first.job_id} | {a.job_id for a in alerts_for(api, watch)}) == sorted(jobs)


def test_live_alert_reaches_a_waiting_watcher(api: client.Api, faces: Path) -> None:
    watch = watchlist(api)
    enroll_person(api, watch, "Obama", faces / "obama.jpg")
    got: list[alert_pb2.Alert] = []
    stream = api.recognition.WatchAlerts(rpb.WatchAlertsRequest(collection=watch))

    def read() -> None:
        for msg in stream:
            got.append(msg.alert)
            return

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.5)
    job = recognize(api, faces / "obama.jpg")
    reader.join(30)
    stream.cancel()
    assert [a.job_id for a in got] == [job.id]


def test_webhook_retries_until_delivered_with_valid_signatures(
    api: client.Api, faces: Path
) -> None:
    receiver = Receiver(fail_first=2).start()
    try:
        watch = watchlist(api, receiver.url)
        enroll_person(api, watch, "Obama", faces / "obama.jpg")
        recognize(api, faces / "obama.jpg")
        (alert,) = alerts_for(api, watch)
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 3:
            assert time.monotonic() < deadline, f"{len(receiver.requests)} attempts"
            time.sleep(0.1)
        keys = {r.headers["Idempotency-Key"] for r in receiver.requests}
        assert keys == {str(alert.id)}
        for r in receiver.requests:
            assert verify(SECRET, r.headers[SIGNATURE_HEADER], r.body)
            assert not verify("wrong-secret-value", r.headers[SIGNATURE_HEADER], r.body)
        (hook,) = next(
            c
            for c in api.gallery.ListCollections(
                gpb.ListCollectionsRequest(), timeout=10
            ).collections
            if c.name == watch
        ).webhooks
        assert hook.url == receiver.url and SECRET not in str(hook)
        payload = json.loads(receiver.requests[-1].body)
        assert payload["alert"]["id"] == alert.id and payload["alert"]["name"] == "Obama"

        while True:
            (delivery,) = api.recognition.ListWebhookDeliveries(
                rpb.ListWebhookDeliveriesRequest(alert_id=alert.id), timeout=10
            ).deliveries
            if delivery.state == alert_pb2.DELIVERY_STATE_DELIVERED:
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert [a.status_code for a in delivery.attempts] == [500, 500, 200]
        assert delivery.attempts[0].error == "HTTP 500" and not delivery.attempts[2].error
    finally:
        receiver.stop()


def test_webhook_delivery_survives_sigkill(fresh_compute: ComputeProcess, faces: Path) -> None:
    receiver = Receiver(fail_first=10**6).start()  # down for now
    fresh_compute.extra = (*fresh_compute.extra, "--webhook-backoff-seconds", "0.5")
    fresh_compute.start()
    try:
        with client.connect(fresh_compute.target, fresh_compute.key) as api:
            watch = watchlist(api, receiver.url)
            enroll_person(api, watch, "Obama", faces / "obama.jpg")
            recognize(api, faces / "obama.jpg")
            (alert,) = alerts_for(api, watch)
            assert receiver.arrived.wait(30)  # first attempt failed
        fresh_compute.kill()  # recorded, not delivered
        receiver.fail_first = 0
        seen = len(receiver.requests)
        fresh_compute.start()
        deadline = time.monotonic() + 60
        with client.connect(fresh_compute.target, fresh_compute.key) as api:
            while True:
                (delivery,) = api.recognition.ListWebhookDeliveries(
                    rpb.ListWebhookDeliveriesRequest(alert_id=alert.id), timeout=10
                ).deliveries
                if delivery.state == alert_pb2.DELIVERY_STATE_DELIVERED:
                    break
                assert time.monotonic() < deadline, "not delivered after the restart"
                time.sleep(0.2)
        assert len(receiver.requests) > seen
        assert receiver.requests[-1].headers["Idempotency-Key"] == str(alert.id)
    finally:
        receiver.stop()


def test_bad_watchlists_are_refused(api: client.Api) -> None:
    for url in ["not a url", "ftp://example.test/x", "http://"]:
        err = rpc_error(
            api.gallery.CreateCollection,
            gpb.CreateCollectionRequest(
                name=unique("w"),
                alert_on_match=True,
                webhooks=[gpb.WebhookSpec(url=url, secret=SECRET)],
            ),
            timeout=10,
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "webhook URL" in err.details()
    for threshold in (1.5, -1.01):
        err = rpc_error(
            api.gallery.CreateCollection,
            gpb.CreateCollectionRequest(
                name=unique("w"), alert_on_match=True, alert_threshold=threshold
            ),
            timeout=10,
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "alert_threshold" in err.details()
    short = rpc_error(
        api.gallery.CreateCollection,
        gpb.CreateCollectionRequest(
            name=unique("w"),
            alert_on_match=True,
            webhooks=[gpb.WebhookSpec(url="https://example.test/h", secret="short")],
        ),
        timeout=10,
    )
    assert "secret" in short.details()
    missing = rpc_error(
        api.recognition.ListWebhookDeliveries,
        rpb.ListWebhookDeliveriesRequest(alert_id=987654321),
        timeout=10,
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND
