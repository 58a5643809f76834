"""Delivering alerts to webhooks: signed POSTs, retries with backoff and jitter, durable."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from facerec.compute import metrics
from facerec.compute.dispatch.egress import EgressPolicy, EgressRefused, post
from facerec.compute.domain import Alert, Delivery, DeliveryAttempt, DeliveryState
from facerec.compute.store.interfaces import AlertStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Facerec-Signature"
MAX_BACKOFF_SECONDS = 600.0


def alert_json(alert: Alert) -> dict[str, object]:
    return {
        "id": alert.id,
        "created_at": alert.created_at,
        "job_id": alert.job_id,
        "collection": alert.collection,
        "identity_id": alert.identity_id,
        "name": alert.name,
        "similarity": round(alert.similarity, 4),
        "box": [round(v, 1) for v in alert.box],
        "face_index": alert.face_index,
    }


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def backoff(attempt: int, base: float) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with ±25 % jitter."""
    delay = min(MAX_BACKOFF_SECONDS, base * 2 ** (attempt - 1))
    return delay * random.uniform(0.75, 1.25)


class WebhookDispatcher:
    """A thread that POSTs due deliveries; state lives in SQLite, so restarts resume."""

    def __init__(
        self,
        alerts: AlertStore,
        max_attempts: int,
        backoff_seconds: float,
        timeout: float,
        policy: EgressPolicy | None = None,
    ) -> None:
        self.alerts = alerts
        self.policy = policy or EgressPolicy()
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook")
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for delivery in self.alerts.due(time.time(), 50):
                    with self._lock:
                        if delivery.id in self._in_flight:
                            continue
                        self._in_flight.add(delivery.id)
                    self._pool.submit(self._deliver, delivery)
                next_due = self.alerts.next_due()
            except Exception:
                log.exception("webhook dispatch failed; will retry")
                next_due = None
            wait = 5.0 if next_due is None else min(5.0, max(0.05, next_due - time.time()))
            self._wake.wait(wait)
            self._wake.clear()

    def _deliver(self, delivery: Delivery) -> None:
        try:
            self._attempt(delivery)
        except Exception:
            log.exception("webhook delivery %d failed unexpectedly", delivery.id)
        finally:
            with self._lock:
                self._in_flight.discard(delivery.id)
            self._wake.set()

    def _attempt(self, delivery: Delivery) -> None:
        alert = self.alerts.get(delivery.alert_id)
        if alert is None:
            return
        body = json.dumps({"type": "alert", "alert": alert_json(alert)}).encode()
        now = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facerec-webhooks",
            SIGNATURE_HEADER: signature(delivery.secret, now, body),
            "Idempotency-Key": str(alert.id),
            "X-Facerec-Attempt": str(len(delivery.attempts) + 1),
        }
        started = time.monotonic()
        status, error = 0, ""
        try:
            status = post(self.policy, delivery.url, body, headers, self.timeout)
        except EgressRefused as exc:
            error = str(exc)
        except (OSError, ValueError) as exc:
            error = str(exc) or type(exc).__name__
        if 300 <= status < 400:
            error = f"HTTP {status}: redirects are not followed"
        elif status >= 400:
            error = f"HTTP {status}"
        ok = 200 <= status < 300
        metrics.WEBHOOK_SECONDS.observe(time.monotonic() - started)
        attempt = DeliveryAttempt(
            time.time(),
            status,
            "" if ok else error or f"HTTP {status}",
            int((time.monotonic() - started) * 1000),
        )
        count = len(delivery.attempts) + 1
        if ok:
            state, next_at = DeliveryState.DELIVERED, None
            metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
        elif count >= self.max_attempts:
            state, next_at = DeliveryState.FAILED, None
            metrics.WEBHOOK_DELIVERIES.labels("failed").inc()
            log.warning(
                "webhook %s gave up on alert %d after %d attempts: %s",
                delivery.url,
                alert.id,
                count,
                attempt.error,
            )
        else:
            metrics.WEBHOOK_DELIVERIES.labels("retrying").inc()
            state, next_at = (
                DeliveryState.PENDING,
                time.time() + backoff(count, self.backoff_seconds),
            )
        self.alerts.record_attempt(delivery.id, attempt, state, next_at)
