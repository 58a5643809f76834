"""`/healthz`, `/readyz` and `/metrics`."""

from __future__ import annotations

import contextlib
import os

import grpc
from flask import Blueprint, Response, jsonify

from facerec.frontend import convert
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
        body = {"status": "ready", "compute": s.cfg.grpc_target}
        # A compute server from before GetModel is ready all the same.
        with contextlib.suppress(grpc.RpcError):
            body["model"] = convert.model_json(s.compute.get_model())["model"]
        return jsonify(body), 200
    resp = jsonify({"status": "not ready", "reason": why, "compute": s.cfg.grpc_target})
    resp.headers["Retry-After"] = str(s.cfg.retry_after_seconds)
    return resp, 503


@bp.get("/api/v1/model")
def model() -> Response:
    """The model compute serves, and the collections being re-embedded for it."""
    return jsonify(convert.model_json(state().compute.get_model()))


@bp.get("/metrics")
def metrics() -> Response:
    return Response(state().metrics.render(), mimetype="text/plain; version=0.0.4")
