"""`/api/v1/collections`: collections, identities and enrolment."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from facerec.frontend import convert, uploads
from facerec.frontend.compute_client import CollectionMissing
from facerec.frontend.errors import ApiError, int_arg
from facerec.frontend.multipart import boundary_of, parts
from facerec.frontend.state import state

bp = Blueprint("gallery", __name__, url_prefix="/api/v1/collections")
faces_bp = Blueprint("faces", __name__, url_prefix="/api/v1/faces")


# Collection, identity and webhook bodies are a few hundred bytes.
MAX_JSON_BYTES = 1024 * 1024


def _json_body() -> dict[str, Any]:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise ApiError(413, "BODY_TOO_LARGE", "the JSON body is larger than its 1 MiB limit")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ApiError(400, "BAD_JSON", "the JSON body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "BAD_JSON", 'the body must be a JSON object, e.g. {"name": "staff"}')
    _check_text(body)
    return body


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(value: Any, depth: int = 0) -> None:
    """400 for a string no UTF-8 can carry (a lone surrogate such as "\\ud800"): the
    contract's strings are UTF-8, and JSON's escapes can name what UTF-8 cannot encode."""
    if depth > 32:
        raise ApiError(400, "BAD_JSON", "the JSON body is nested too deeply")
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise ApiError(
                400,
                "BAD_TEXT",
                "a string in the JSON body (a name?) is not valid Unicode text"
                " (a lone surrogate escape such as \\ud800)",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, depth + 1)
            _check_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, depth + 1)


def _text(body: dict[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(400, "BAD_FIELD", f"{name!r} must be a non-empty string")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(400, "BAD_FIELD", f"{name!r} must be true or false")
    return value


def _threshold(body: dict[str, Any]) -> float | None:
    """`alert_threshold` as a number, or None when absent or null."""
    threshold = body.get("alert_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float)
    ):
        raise ApiError(400, "BAD_FIELD", "'alert_threshold' must be a number in [-1, 1] or null")
    return None if threshold is None else float(threshold)


@bp.post("")
def create_collection() -> tuple[Response, int]:
    body = _json_body()
    threshold = _threshold(body)
    hooks = body.get("webhooks", [])
    if not isinstance(hooks, list) or not all(isinstance(h, dict) for h in hooks):
        raise ApiError(400, "BAD_FIELD", '\'webhooks\' must be a list of {"url", "secret"}')
    resp = state().compute.create_collection(
        _text(body, "name"),
        _text(body, "description", required=False),
        _flag(body, "alert_on_match"),
        threshold,
        [(_text(h, "url"), _text(h, "secret")) for h in hooks],
    )
    return jsonify(convert.collection_json(resp.collection)), 201


@bp.get("")
def list_collections() -> Response:
    cols = state().compute.list_collections().collections
    return jsonify({"collections": [convert.collection_json(c) for c in cols]})


@bp.get("/<name>")
def get_collection(name: str) -> Response:
    try:
        return jsonify(convert.collection_json(state().compute.get_collection(name)))
    except CollectionMissing:
        raise ApiError(404, "NOT_FOUND", f"collection {name!r} does not exist") from None


@bp.patch("/<name>")
def update_collection(name: str) -> Response:
    """Changes `description`, `alert_on_match` and `alert_threshold` (null: the model's)."""
    body = _json_body()
    unknown = set(body) - {"description", "alert_on_match", "alert_threshold"}
    if unknown:
        raise ApiError(400, "BAD_FIELD", f"unknown field(s): {', '.join(sorted(unknown))}")
    threshold = _threshold(body)
    col = state().compute.update_collection(
        name,
        _text(body, "description", required=False) if "description" in body else None,
        _flag(body, "alert_on_match") if "alert_on_match" in body else None,
        threshold,
        "alert_threshold" in body and threshold is None,
    )
    return jsonify(convert.collection_json(col))


@bp.post("/<name>/webhooks")
def add_webhook(name: str) -> tuple[Response, int]:
    """Adds `{"url", "secret"}`; the secret is never shown again."""
    body = _json_body()
    hook = state().compute.add_webhook(name, _text(body, "url"), _text(body, "secret")).webhook
    return jsonify({"id": hook.id, "url": hook.url}), 201


@bp.delete("/<name>/webhooks/<int:webhook_id>")
def delete_webhook(name: str, webhook_id: int) -> Response:
    state().compute.delete_webhook(name, webhook_id)
    return jsonify({"deleted": webhook_id})


@bp.delete("/<name>")
def delete_collection(name: str) -> Response:
    resp = state().compute.delete_collection(name)
    return jsonify(
        {"deleted_identities": resp.deleted_identities, "deleted_faces": resp.deleted_faces}
    )


@bp.post("/<collection>/identities")
def create_identity(collection: str) -> tuple[Response, int]:
    resp = state().compute.create_identity(collection, _text(_json_body(), "name"))
    return jsonify(convert.identity_json(resp.identity)), 201


@bp.get("/<collection>/identities")
def list_identities(collection: str) -> Response:
    size = int_arg(request.args, "page_size", 100)
    resp = state().compute.list_identities(collection, size, request.args.get("page_token", ""))
    return jsonify(
        {
            "identities": [convert.identity_json(i) for i in resp.identities],
            "next_page_token": resp.next_page_token or None,
        }
    )


def _identity_in(collection: str, identity_id: str):
    identity = state().compute.get_identity(identity_id).identity
    if identity.collection != collection:
        raise ApiError(
            404, "NOT_FOUND", f"identity {identity_id!r} is not in collection {collection!r}"
        )
    return identity


@bp.get("/<collection>/identities/<identity_id>")
def get_identity(collection: str, identity_id: str) -> Response:
    return jsonify(convert.identity_json(_identity_in(collection, identity_id)))


@bp.delete("/<collection>/identities/<identity_id>")
def delete_identity(collection: str, identity_id: str) -> Response:
    _identity_in(collection, identity_id)
    resp = state().compute.delete_identity(identity_id)
    return jsonify({"deleted_faces": resp.deleted_faces})


@bp.post("/<collection>/identities/<identity_id>/faces")
def enroll(collection: str, identity_id: str) -> tuple[Response, int]:
    """Queues one enrolment job per `image` part; 202 with the jobs."""
    s = state()
    _identity_in(collection, identity_id)
    boundary = boundary_of(request.mimetype, request.mimetype_params)
    body = parts(request.stream, boundary, s.cfg.max_upload_bytes)
    resp = uploads.call_streaming(
        lambda pieces: s.compute.enroll(identity_id, pieces),
        uploads.enroll_pieces(body),
        s.cfg.retry_after_seconds,
    )
    return jsonify({"jobs": [convert.job_json(j) for j in resp.jobs]}), 202


@bp.delete("/<collection>/identities/<identity_id>/faces/<int:face_id>")
def delete_face(collection: str, identity_id: str, face_id: int) -> Response:
    identity = _identity_in(collection, identity_id)
    if face_id not in {f.id for f in identity.faces}:
        raise ApiError(404, "NOT_FOUND", f"face {face_id} is not one of {identity_id!r}'s faces")
    state().compute.delete_face(face_id)
    return jsonify({"deleted": face_id})


@faces_bp.get("/<int:face_id>/crop")
def face_crop(face_id: int) -> Response:
    """An enrolled face's stored crop (PNG): biometric data, never cached."""
    resp = Response(state().compute.face_crop(face_id), mimetype="image/png")
    resp.headers["Cache-Control"] = "no-store"
    return resp
