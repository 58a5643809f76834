"""`/healthz`, `/readyz` and `/metrics`."""

from __future__ import annotations

import os

from flask import Blueprint, Response, jsonify

from facerec.frontend.state import state

bp = Blueprint("ops", __name__)


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
        return jsonify({"status": "ready", "compute": s.cfg.grpc_target}), 200
    resp = jsonify({"status": "not ready", "reason": why, "compute": s.cfg.grpc_target})
    resp.headers["Retry-After"] = str(s.cfg.retry_after_seconds)
    return resp, 503


@bp.get("/metrics")
def metrics() -> Response:
    return Response(state().metrics.render(), mimetype="text/plain; version=0.0.4")
