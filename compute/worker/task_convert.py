"""Conversions between task dataclasses and `facerec.v1` WorkerService messages."""

from __future__ import annotations

import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from facerec.compute.tasks import (
    CropKind,
    DetectOutput,
    EmbedOutput,
    FaceCrop,
    Task,
    TaskCancel,
    TaskError,
    TaskKind,
    TaskOutput,
    WorkerHello,
)
from facerec.v1 import job_pb2
from facerec.v1 import worker_service_pb2 as pb


def timestamp(seconds: float) -> Timestamp:
    """Seconds since the epoch as a protobuf Timestamp."""
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def _seconds(ts: Timestamp) -> float:
    return ts.ToNanoseconds() / 1e9


def hello_to_pb(hello: WorkerHello) -> pb.WorkRequest:
    return pb.WorkRequest(
        hello=pb.WorkerHello(
            worker_id=hello.worker_id,
            capabilities=hello.capabilities,
            max_tasks=hello.max_tasks,
            max_batch_size=hello.max_batch_size,
            runtime=hello.runtime,
        )
    )


def hello_from_pb(msg: pb.WorkerHello, peer: str) -> WorkerHello:
    return WorkerHello(
        worker_id=msg.worker_id,
        capabilities=tuple(msg.capabilities),
        max_tasks=msg.max_tasks or 1,
        max_batch_size=msg.max_batch_size,
        runtime=msg.runtime,
        peer=peer,
    )


def crop_kind(value: int) -> CropKind:
    """A `facerec.v1.CropKind` number as a CropKind (unset: BOX_160); ValueError if unknown."""
    if value == 0:
        return CropKind.BOX_160
    try:
        return CropKind(value)
    except ValueError:
        raise ValueError(f"unknown crop kind {value}") from None


def _crop_to_pb(kind: CropKind, crop: np.ndarray) -> pb.Crop:
    return pb.Crop(
        width=kind.size, height=kind.size, rgb=np.ascontiguousarray(crop).tobytes(), kind=kind
    )


def _crop_from_pb(msg: pb.Crop) -> tuple[CropKind, np.ndarray]:
    kind = crop_kind(msg.kind)
    size = kind.size
    if msg.width != size or msg.height != size or len(msg.rgb) != size * size * 3:
        raise ValueError(
            f"{kind.name} crops must be {size}x{size} RGB ({size * size * 3} bytes), not"
            f" {msg.width}x{msg.height} with {len(msg.rgb)} bytes"
        )
    return kind, np.frombuffer(msg.rgb, dtype=np.uint8).reshape(size, size, 3)


def _face_crops(msg: pb.FaceCrop) -> dict[CropKind, np.ndarray]:
    return dict(_crop_from_pb(c) for c in (msg.crop, *msg.more_crops))


def item_to_pb(item: Task | TaskCancel) -> pb.WorkResponse:
    """A task or a cancellation, as the coordinator sends it."""
    if isinstance(item, TaskCancel):
        return pb.WorkResponse(cancel=pb.TaskCancel(task_id=item.task_id))
    task = pb.Task(
        task_id=item.id,
        attempt=item.attempt,
        kind=int(item.kind),
        lease_expires_at=timestamp(item.lease_expires_at),
    )
    if item.kind is TaskKind.DETECT:
        task.detect.photo = item.photo
        task.detect.min_detection_score = item.min_detection_score
        task.detect.min_face_size = item.min_face_size
        task.detect.crop_kinds.extend(item.crop_kinds)
    else:
        task.embed.model_id = item.model_id
        kind = item.crop_kinds[0]
        task.embed.crops.extend(_crop_to_pb(kind, c) for c in item.crops)
    return pb.WorkResponse(task=task)


def task_from_pb(msg: pb.Task) -> Task:
    kind = TaskKind(msg.kind)
    if kind is TaskKind.DETECT:
        return Task(
            msg.task_id,
            msg.attempt,
            kind,
            _seconds(msg.lease_expires_at),
            photo=msg.detect.photo,
            min_detection_score=msg.detect.min_detection_score,
            min_face_size=msg.detect.min_face_size or 20,
            crop_kinds=tuple(crop_kind(k) for k in msg.detect.crop_kinds) or (CropKind.BOX_160,),
        )
    crops = [_crop_from_pb(c) for c in msg.embed.crops]
    kinds = {k for k, _ in crops}
    if len(kinds) > 1:
        raise ValueError("the crops of one EMBED task must all be of one kind")
    crop = kinds.pop() if kinds else CropKind.BOX_160
    return Task(
        msg.task_id,
        msg.attempt,
        kind,
        _seconds(msg.lease_expires_at),
        crop_kinds=(crop,),
        model_id=msg.embed.model_id,
        crops=(
            np.stack([c for _, c in crops])
            if crops
            else np.zeros((0, crop.size, crop.size, 3), np.uint8)
        ),
    )


def result_to_pb(task: Task, output: TaskOutput) -> pb.WorkRequest:
    result = pb.TaskResult(task_id=task.id, attempt=task.attempt)
    result.stage_seconds.update(output.seconds)
    if isinstance(output, DetectOutput):
        kinds = task.crop_kinds
        result.detect.SetInParent()
        for f in output.faces:
            result.detect.faces.append(
                pb.FaceCrop(
                    box=job_pb2.Box(x1=f.box[0], y1=f.box[1], x2=f.box[2], y2=f.box[3]),
                    score=f.score,
                    landmarks=[job_pb2.Point(x=x, y=y) for x, y in f.landmarks],
                    crop=_crop_to_pb(kinds[0], f.crops[kinds[0]]),
                    more_crops=[_crop_to_pb(k, f.crops[k]) for k in kinds[1:]],
                )
            )
    else:
        result.embed.SetInParent()
        result.embed.embeddings.extend(pb.Embedding(values=v.tolist()) for v in output.vectors)
    return pb.WorkRequest(result=result)


def output_from_pb(msg: pb.TaskResult) -> TaskOutput:
    """The output of a result; ValueError when it is malformed."""
    which = msg.WhichOneof("output")
    seconds = dict(msg.stage_seconds)
    if which == "detect":
        return DetectOutput(
            tuple(
                FaceCrop(
                    box=(f.box.x1, f.box.y1, f.box.x2, f.box.y2),
                    score=f.score,
                    landmarks=tuple((p.x, p.y) for p in f.landmarks),
                    crops=_face_crops(f),
                )
                for f in msg.detect.faces
            ),
            seconds,
        )
    if which == "embed":
        rows = [np.asarray(e.values, dtype=np.float32) for e in msg.embed.embeddings]
        if any(len(r) != len(rows[0]) for r in rows):
            raise ValueError("embeddings must all have the same length")
        return EmbedOutput(np.stack(rows) if rows else np.zeros((0, 512), np.float32), seconds)
    raise ValueError("a result must carry a detect or an embed output")


def failure_to_pb(task: Task, error: TaskError) -> pb.WorkRequest:
    return pb.WorkRequest(
        failure=pb.TaskFailure(
            task_id=task.id,
            attempt=task.attempt,
            code=error.code,
            message=error.message,
            permanent=error.permanent,
        )
    )


def failure_from_pb(msg: pb.TaskFailure) -> TaskError:
    return TaskError(
        msg.code or "WORKER_ERROR", msg.message or "the worker gave no reason", msg.permanent
    )
