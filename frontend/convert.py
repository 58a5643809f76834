"""JSON forms of `facerec.v1` messages, as the HTTP API returns them."""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from facerec.frontend.sse import sse
from facerec.v1 import (
    alert_pb2,
    gallery_pb2,
    gallery_service_pb2,
    job_pb2,
    recognition_service_pb2,
)

STATES = {
    "queued": job_pb2.JOB_STATE_QUEUED,
    "running": job_pb2.JOB_STATE_RUNNING,
    "succeeded": job_pb2.JOB_STATE_SUCCEEDED,
    "failed": job_pb2.JOB_STATE_FAILED,
    "cancelled": job_pb2.JOB_STATE_CANCELLED,
}
_STATE_NAMES = {v: k for k, v in STATES.items()}
TERMINAL = {"succeeded", "failed", "cancelled"}


def _time(ts: Timestamp) -> str:
    return ts.ToDatetime().isoformat(timespec="milliseconds") + "Z"


def _r(x: float, digits: int = 1) -> float:
    return round(float(x), digits)


def state_name(state: int) -> str:
    return _STATE_NAMES.get(state, "unspecified")


def _enum_name(enum: Any, value: int, prefix: str) -> str:
    """'recognize' for JOB_KIND_RECOGNIZE; a number this front end does not know (from a
    newer compute server) reads as "unknown_<n>" instead of failing the answer."""
    try:
        return enum.Name(value).removeprefix(prefix).lower()
    except ValueError:
        return f"unknown_{value}"


def job_json(job: job_pb2.Job) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id,
        "kind": _enum_name(job_pb2.JobKind, job.kind, "JOB_KIND_"),
        "state": state_name(job.state),
        "created_at": _time(job.create_time),
        "updated_at": _time(job.update_time),
        "image": {
            "width": job.image.width,
            "height": job.image.height,
            "format": job.image.format,
            "size_bytes": job.image.size_bytes,
        },
        "collection": job.spec.collection,
        "faces": [
            {
                "box": [_r(f.box.x1), _r(f.box.y1), _r(f.box.x2), _r(f.box.y2)],
                "score": _r(f.score, 4),
                "landmarks": [[_r(p.x), _r(p.y)] for p in f.landmarks],
                "matches": [
                    {
                        "identity_id": m.identity_id,
                        "name": m.name,
                        "collection": m.collection,
                        "similarity": _r(m.similarity, 4),
                        "face_id": m.face_id,
                    }
                    for m in f.matches
                ],
            }
            for f in job.faces
        ],
        "model_id": job.model_id,
        "untrained_model": job.untrained_model,
        "attempt": job.attempt,
        "error": None,
    }
    if job.HasField("error"):
        out["error"] = {
            "code": job.error.code,
            "message": job.error.message,
            "fault": _enum_name(job_pb2.JobFault, job.error.fault, "JOB_FAULT_"),
        }
    if job.HasField("enrollment"):
        out["enrollment"] = {
            "identity_id": job.enrollment.identity_id,
            "face_id": job.enrollment.face_id,
            "faces_in_photo": job.enrollment.faces_in_photo,
        }
    return out


def collection_json(c: gallery_pb2.Collection) -> dict[str, Any]:
    return {
        "name": c.name,
        "description": c.description,
        "identity_count": c.identity_count,
        "face_count": c.face_count,
        "created_at": _time(c.create_time),
        "alert_on_match": c.alert_on_match,
        "alert_threshold": _r(c.alert_threshold, 4),
        "model_threshold": c.model_threshold,
        "webhooks": [{"id": w.id, "url": w.url} for w in c.webhooks],
    }


def model_json(resp: gallery_service_pb2.GetModelResponse) -> dict[str, Any]:
    m = resp.model
    return {
        "model": {
            "id": m.id,
            "embedding_dim": m.embedding_dim,
            "trained": m.trained,
            "runtime": m.runtime,
            "default_min_similarity": _r(m.default_min_similarity, 4),
            "default_alert_threshold": _r(m.default_alert_threshold, 4),
            "description": m.description,
        },
        "reembeddings": [
            {
                "collection": r.collection,
                "from_models": list(r.from_models),
                "faces_total": r.faces_total,
                "faces_done": r.faces_done,
                "state": _enum_name(gallery_pb2.ReembeddingState, r.state, "REEMBEDDING_STATE_"),
            }
            for r in resp.reembeddings
        ],
    }


def alert_json(a: alert_pb2.Alert) -> dict[str, Any]:
    return {
        "id": a.id,
        "created_at": _time(a.create_time),
        "job_id": a.job_id,
        "collection": a.collection,
        "identity_id": a.identity_id,
        "name": a.name,
        "similarity": _r(a.similarity, 4),
        "box": [_r(a.box.x1), _r(a.box.y1), _r(a.box.x2), _r(a.box.y2)],
        "face_index": a.face_index,
        "face_id": a.face_id or None,
    }


_DELIVERY_STATES = {1: "pending", 2: "delivered", 3: "failed"}


def delivery_json(d: alert_pb2.WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "alert_id": d.alert_id,
        "url": d.url,
        "state": _DELIVERY_STATES.get(d.state, "unspecified"),
        "attempts": [
            {
                "time": _time(a.time),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in d.attempts
        ],
        "next_attempt_at": _time(d.next_attempt_time) if d.HasField("next_attempt_time") else None,
    }


def identity_json(i: gallery_pb2.Identity) -> dict[str, Any]:
    return {
        "id": i.id,
        "collection": i.collection,
        "name": i.name,
        "face_count": i.face_count,
        "created_at": _time(i.create_time),
        "faces": [
            {
                "id": f.id,
                "model_id": f.model_id,
                "source_job_id": f.source_job_id,
                "created_at": _time(f.create_time),
            }
            for f in i.faces
        ],
    }


_EVENT_NAMES = {1: "snapshot", 2: "state_changed", 3: "faces_detected"}


def job_event_sse(resp: recognition_service_pb2.WatchJobResponse) -> str:
    """A WatchJob event as a server-sent event named by its type."""
    return sse(_EVENT_NAMES.get(resp.type, "update"), job_json(resp.job))


def alert_event_sse(resp: recognition_service_pb2.WatchAlertsResponse) -> str:
    """An alert as a server-sent event whose id is the alert id (for Last-Event-ID)."""
    return sse("alert", alert_json(resp.alert), str(resp.alert.id))
