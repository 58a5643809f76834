"""`/healthz`, `/readyz` and `/metrics`."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from facerec.frontend import convert
from facerec.frontend.channel import credential
from facerec.frontend.errors import ApiError
from facerec.frontend.state import state

bp = Blueprint("ops", __name__)
METRICS_ROLES = (1, 4)  # KEY_ROLE_ADMIN, KEY_ROLE_METRICS
ROLE_NAMES = {1: "admin", 2: "user", 3: "worker", 4: "metrics"}


class CallerCache:
    """Roles of recently seen credentials, so /metrics does not ask compute every scrape."""

    def __init__(self, seconds: float = 5.0) -> None:
        self.seconds = seconds
        self._seen: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def role(self, token: str, lookup: Callable[[], Any]) -> int:
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(token)
        if hit is not None and now - hit[1] < self.seconds:
            return hit[0]
        role = int(lookup().role)
        with self._lock:
            if len(self._seen) > 1000:
                self._seen.clear()
            self._seen[token] = (role, now)
        return role


_callers = CallerCache()


@bp.get("/healthz")
def healthz() -> Response:
    """The front end itself answers (says nothing about compute); `process` tells the
    processes of a multi-process front end apart."""
    return jsonify({"status": "ok", "process": os.getpid()})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready when compute answers its health check with its models loaded."""
    s = state()
    ok, why = s.compute.ready()
    if ok:
        body = {"status": "ready", "compute": s.cfg.grpc_target}
        # A compute server from before GetModel is ready all the same.
        with contextlib.suppress(grpc.RpcError):
            body["model"] = convert.model_json(s.compute.get_model())["model"]
        return jsonify(body), 200
    resp = jsonify({"status": "not ready", "reason": why, "compute": s.cfg.grpc_target})
    resp.headers["Retry-After"] = str(s.cfg.retry_after_seconds)
    return resp, 503


@bp.get("/api/v1/status")
def status() -> Response:
    """What the page's status bar shows: compute reachable, the model, and (for keys that
    may see them) the queue and the connected workers."""
    s = state()
    ok, why = s.compute.ready()
    body: dict[str, Any] = {"compute": {"reachable": ok, "reason": why}, "model": None}
    body["queue"] = body["workers"] = body["caller"] = None
    if ok:
        with contextlib.suppress(grpc.RpcError):  # UNAUTHENTICATED: not logged in
            key = s.compute.caller()
            body["caller"] = {"name": key.name, "role": ROLE_NAMES.get(key.role, "?")}
        with contextlib.suppress(grpc.RpcError):
            body["model"] = convert.model_json(s.compute.get_model())["model"]
        with contextlib.suppress(grpc.RpcError):  # PERMISSION_DENIED for user keys
            listing = s.compute.list_workers()
            body["queue"] = {"queued": listing.queued_jobs, "running": listing.running_jobs}
            body["workers"] = [
                {
                    "id": w.worker_id,
                    "capabilities": list(w.capabilities),
                    "tasks_in_flight": w.tasks_in_flight,
                    "tasks_done": w.tasks_done,
                }
                for w in listing.workers
            ]
    return jsonify(body)


@bp.get("/api/v1/model")
def model() -> Response:
    """The model compute serves, and the collections being re-embedded for it."""
    return jsonify(convert.model_json(state().compute.get_model()))


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text; needs a metrics or admin key."""
    # Compute checks the key (UNAUTHENTICATED: 401); with keys off every caller is an admin.
    if _callers.role(credential.get(), state().compute.caller) not in METRICS_ROLES:
        raise ApiError(403, "PERMISSION_DENIED", "metrics need a metrics or admin key")
    return Response(state().metrics.render(), mimetype=CONTENT_TYPE_LATEST)
