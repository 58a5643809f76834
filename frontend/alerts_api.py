"""`/api/v1/alerts`: the alert log, its live stream, and webhook deliveries."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from facerec.frontend import convert
from facerec.frontend.errors import ApiError, int_arg
from facerec.frontend.state import state

bp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts")


@bp.get("")
def list_alerts() -> Response:
    resp = state().compute.list_alerts(
        request.args.get("collection", ""),
        request.args.get("identity_id", ""),
        int_arg(request.args, "page_size", 50),
        request.args.get("page_token", ""),
    )
    return jsonify(
        {
            "alerts": [convert.alert_json(a) for a in resp.alerts],
            "next_page_token": resp.next_page_token or None,
        }
    )


@bp.get("/events")
def events() -> Response:
    """Every alert after `Last-Event-ID` (or `?after=`), then live ones; never ends."""
    s = state()
    header = request.headers.get("Last-Event-ID", "")
    try:
        after = int(header) if header else int_arg(request.args, "after", 0)
    except ValueError:
        raise ApiError(400, "BAD_FIELD", "Last-Event-ID must be an alert id") from None
    if after < 0:
        raise ApiError(400, "BAD_FIELD", "the alert cursor must not be negative")
    collection = request.args.get("collection", "")
    identity_id = request.args.get("identity_id", "")
    # A cheap call first, so that bad filters or an unreachable compute get an HTTP status.
    s.compute.list_alerts(collection, identity_id, 1, "")
    return s.streams.open(
        lambda: s.compute.watch_alerts(after, collection, identity_id),
        convert.alert_event_sse,
        None,
    )


@bp.get("/<int:alert_id>/deliveries")
def deliveries(alert_id: int) -> Response:
    resp = state().compute.deliveries(alert_id)
    return jsonify({"deliveries": [convert.delivery_json(d) for d in resp.deliveries]})
