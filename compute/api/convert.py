"""Conversions between domain dataclasses and `facerec.v1` messages (adapters only)."""

from __future__ import annotations

from facerec.compute import domain as d
from facerec.compute.dispatch.reembedder import Progress
from facerec.compute.models.catalog import ModelSpec
from facerec.compute.worker.task_convert import timestamp
from facerec.v1 import alert_pb2, gallery_pb2, job_pb2


def spec_from_pb(pb: job_pb2.JobSpec, default_min_similarity: float) -> d.JobSpec:
    """Raw client values with defaults filled in (`default_min_similarity`: the served
    model's); range checks happen in the submitter."""
    return d.JobSpec(
        collection=pb.collection,
        top_k=pb.top_k or d.DEFAULT_TOP_K,
        min_similarity=(
            pb.min_similarity if pb.HasField("min_similarity") else default_min_similarity
        ),
        min_detection_score=(
            pb.min_detection_score
            if pb.HasField("min_detection_score")
            else d.DEFAULT_MIN_DETECTION_SCORE
        ),
        priority=pb.priority,
        request_id=pb.request_id,
        min_face_size=pb.min_face_size if pb.HasField("min_face_size") else 0,
    )


def spec_to_pb(spec: d.JobSpec) -> job_pb2.JobSpec:
    return job_pb2.JobSpec(
        collection=spec.collection,
        top_k=spec.top_k,
        min_similarity=spec.min_similarity,
        min_detection_score=spec.min_detection_score,
        priority=spec.priority,
        request_id=spec.request_id,
        min_face_size=spec.min_face_size or None,
    )


def match_to_pb(m: d.Match) -> job_pb2.FaceMatch:
    return job_pb2.FaceMatch(
        identity_id=m.identity_id,
        name=m.name,
        collection=m.collection,
        similarity=m.similarity,
        face_id=m.face_id,
    )


def face_to_pb(f: d.Face) -> job_pb2.DetectedFace:
    return job_pb2.DetectedFace(
        box=job_pb2.Box(x1=f.box[0], y1=f.box[1], x2=f.box[2], y2=f.box[3]),
        score=f.score,
        landmarks=[job_pb2.Point(x=x, y=y) for x, y in f.landmarks],
        matches=[match_to_pb(m) for m in f.matches],
    )


def job_to_pb(job: d.Job, untrained_models: frozenset[str], default_model: str) -> job_pb2.Job:
    """A job message; before it runs, `default_model` is the model that will embed it."""
    model_id = job.model_id or default_model
    pb = job_pb2.Job(
        id=job.id,
        kind=int(job.kind),
        state=int(job.state),
        spec=spec_to_pb(job.spec),
        create_time=timestamp(job.created_at),
        update_time=timestamp(job.updated_at),
        image=job_pb2.ImageInfo(
            width=job.image.width,
            height=job.image.height,
            format=job.image.format,
            size_bytes=job.image.size_bytes,
        ),
        faces=[face_to_pb(f) for f in job.faces],
        model_id=model_id,
        untrained_model=model_id in untrained_models,
        attempt=job.attempt,
    )
    if job.error is not None:
        pb.error.CopyFrom(
            job_pb2.JobError(
                code=job.error.code, message=job.error.message, fault=int(job.error.fault)
            )
        )
    if job.enrollment is not None:
        pb.enrollment.CopyFrom(
            job_pb2.Enrollment(
                identity_id=job.enrollment.identity_id,
                face_id=job.enrollment.face_id,
                faces_in_photo=job.enrollment.faces_in_photo,
            )
        )
    return pb


def collection_to_pb(c: d.Collection, default_alert_threshold: float) -> gallery_pb2.Collection:
    """A collection; an unset alert threshold shows as the served model's default."""
    return gallery_pb2.Collection(
        name=c.name,
        description=c.description,
        identity_count=c.identity_count,
        face_count=c.face_count,
        create_time=timestamp(c.created_at),
        alert_on_match=c.alert_on_match,
        alert_threshold=(
            default_alert_threshold if c.alert_threshold is None else c.alert_threshold
        ),
        webhooks=[gallery_pb2.Webhook(id=w.id, url=w.url) for w in c.webhooks],
        model_threshold=c.alert_threshold is None,
    )


def alert_to_pb(a: d.Alert) -> alert_pb2.Alert:
    return alert_pb2.Alert(
        id=a.id,
        create_time=timestamp(a.created_at),
        job_id=a.job_id,
        collection=a.collection,
        identity_id=a.identity_id,
        name=a.name,
        similarity=a.similarity,
        box=job_pb2.Box(x1=a.box[0], y1=a.box[1], x2=a.box[2], y2=a.box[3]),
        face_index=a.face_index,
        face_id=a.face_id,
    )


def delivery_to_pb(dl: d.Delivery) -> alert_pb2.WebhookDelivery:
    pb = alert_pb2.WebhookDelivery(
        id=dl.id,
        alert_id=dl.alert_id,
        url=dl.url,
        state=int(dl.state),
        attempts=[
            alert_pb2.DeliveryAttempt(
                time=timestamp(a.time),
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
            )
            for a in dl.attempts
        ],
    )
    if dl.next_attempt_at is not None:
        pb.next_attempt_time.CopyFrom(timestamp(dl.next_attempt_at))
    return pb


def identity_to_pb(i: d.Identity) -> gallery_pb2.Identity:
    return gallery_pb2.Identity(
        id=i.id,
        collection=i.collection,
        name=i.name,
        face_count=i.face_count,
        create_time=timestamp(i.created_at),
        faces=[
            gallery_pb2.GalleryFace(
                id=f.id,
                model_id=f.model_id,
                source_job_id=f.source_job_id,
                create_time=timestamp(f.created_at),
            )
            for f in i.faces
        ],
    )


def model_to_pb(m: ModelSpec) -> gallery_pb2.ModelInfo:
    return gallery_pb2.ModelInfo(
        id=m.id,
        embedding_dim=m.dim,
        trained=m.trained,
        runtime=m.runtime,
        default_min_similarity=m.min_similarity,
        default_alert_threshold=m.alert_threshold,
        description=m.description,
    )


def reembedding_to_pb(p: Progress) -> gallery_pb2.Reembedding:
    state = (
        gallery_pb2.REEMBEDDING_STATE_NEEDS_ENROLMENT
        if p.faces_without_crop
        else gallery_pb2.REEMBEDDING_STATE_RUNNING
    )
    return gallery_pb2.Reembedding(
        collection=p.collection,
        from_models=p.from_models,
        faces_total=p.faces_total,
        faces_done=p.faces_done,
        state=state,
    )
