"""The Flask app factory."""

from __future__ import annotations

import logging
import time

import grpc
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from facerec.frontend import alerts_api, errors, gallery_api, jobs_api, ops_api, pages, security
from facerec.frontend.compute_client import ComputeClient
from facerec.frontend.config import FrontendConfig
from facerec.frontend.event_stream import StreamHub
from facerec.frontend.metrics import Metrics
from facerec.frontend.state import FrontendState

log = logging.getLogger(__name__)


def create_app(cfg: FrontendConfig | None = None) -> Flask:
    """A front end talking to the compute server at `cfg.grpc_target`."""
    cfg = cfg or FrontendConfig()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None  # uploads are size-checked while streaming
    app.json.sort_keys = False
    metrics = Metrics()
    st = FrontendState(cfg, ComputeClient(cfg), metrics, StreamHub(cfg, metrics))
    app.extensions["facerec"] = st
    security.install(app, cfg)
    blueprints = (jobs_api.bp, gallery_api.bp, gallery_api.faces_bp, alerts_api.bp, ops_api.bp)
    for bp in (*blueprints, pages.bp):
        app.register_blueprint(bp)

    @app.errorhandler(errors.ApiError)
    def api_error(err: errors.ApiError) -> Response:
        return errors.response(err)

    @app.errorhandler(grpc.RpcError)
    def rpc_error(exc: grpc.RpcError) -> Response:
        return errors.response(errors.from_rpc(exc, cfg.retry_after_seconds))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").upper().replace(" ", "_")
        return errors.response(errors.ApiError(exc.code or 500, code, exc.description or ""))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return errors.response(errors.ApiError(500, "INTERNAL", "internal error"))

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def observe(resp: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        st.metrics.observe(
            request.method,
            endpoint,
            resp.status_code,
            time.perf_counter() - g.get("started", time.perf_counter()),
        )
        return resp

    return app
