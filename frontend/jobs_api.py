"""`/api/v1/jobs`: submit, get, list, cancel, and job events."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from facerec.frontend import convert, uploads
from facerec.frontend.errors import ApiError, int_arg
from facerec.frontend.multipart import boundary_of, parts
from facerec.frontend.state import state

bp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs")

MAX_PAGE = 500


def _check_length(limit: int) -> None:
    # Refuse before reading a byte when the declared size is already too large.
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise ApiError(
            413,
            "PHOTO_TOO_LARGE",
            f"the upload is larger than the {limit // (1024 * 1024)} MiB limit",
        )


@bp.post("")
def submit() -> Response:
    """Streams the photo to compute and answers 202 with the queued job."""
    s = state()
    _check_length(s.cfg.max_upload_bytes)
    boundary = boundary_of(request.mimetype, request.mimetype_params)
    fields = {k: v for k, v in request.args.items()}
    if request.headers.get("Idempotency-Key"):
        fields.setdefault("request_id", request.headers["Idempotency-Key"])
    body = parts(request.stream, boundary, s.cfg.max_upload_bytes)
    job = uploads.call_streaming(
        s.compute.submit, uploads.job_pieces(body, fields), s.cfg.retry_after_seconds
    )
    s.metrics.job_submitted()
    resp = jsonify(convert.job_json(job))
    resp.status_code = 202
    resp.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return resp


@bp.get("/<job_id>")
def get(job_id: str) -> Response:
    s = state()
    return jsonify(convert.job_json(s.compute.get_job(job_id)))


@bp.get("")
def list_jobs() -> Response:
    s = state()
    names = [n for n in request.args.get("state", "").split(",") if n]
    unknown = [n for n in names if n not in convert.STATES]
    if unknown:
        raise ApiError(
            400,
            "BAD_FIELD",
            f"unknown state {unknown[0]!r}; use one of " + ", ".join(convert.STATES),
        )
    size = int_arg(request.args, "page_size", 50)
    if not 1 <= size <= MAX_PAGE:
        raise ApiError(400, "BAD_FIELD", f"page_size must be between 1 and {MAX_PAGE}")
    page = s.compute.list_jobs(
        [convert.STATES[n] for n in names], size, request.args.get("page_token", "")
    )
    return jsonify(
        {
            "jobs": [convert.job_json(j) for j in page.jobs],
            "next_page_token": page.next_page_token or None,
        }
    )


@bp.post("/<job_id>/cancel")
def cancel(job_id: str) -> Response:
    s = state()
    return jsonify(convert.job_json(s.compute.cancel_job(job_id)))


@bp.get("/<job_id>/events")
def events(job_id: str) -> Response:
    s = state()
    return s.streams.open(
        lambda: s.compute.watch_job(job_id),
        convert.job_event_sse,
        s.cfg.grpc_timeout_seconds,
    )
