"""Conversions between task dataclasses and `facerec.v1` WorkerService messages."""

from __future__ import annotations

import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from facerec.compute.tasks import (
    CROP_BYTES,
    CROP_SIZE,
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


def _crop_to_pb(crop: np.ndarray) -> pb.Crop:
    return pb.Crop(width=CROP_SIZE, height=CROP_SIZE, rgb=np.ascontiguousarray(crop).tobytes())


def _crop_from_pb(msg: pb.Crop) -> np.ndarray:
    if msg.width != CROP_SIZE or msg.height != CROP_SIZE or len(msg.rgb) != CROP_BYTES:
        raise ValueError(
            f"crops must be 160x160 RGB ({CROP_BYTES} bytes), not {msg.width}x{msg.height}"
            f" with {len(msg.rgb)} bytes"
        )
    return np.frombuffer(msg.rgb, dtype=np.uint8).reshape(CROP_SIZE, CROP_SIZE, 3)


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
    else:
        task.embed.model_id = item.model_id
        task.embed.crops.extend(_crop_to_pb(c) for c in item.crops)
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
        )
    crops = [_crop_from_pb(c) for c in msg.embed.crops]
    return Task(
        msg.task_id,
        msg.attempt,
        kind,
        _seconds(msg.lease_expires_at),
        model_id=msg.embed.model_id,
        crops=np.stack(crops) if crops else np.zeros((0, CROP_SIZE, CROP_SIZE, 3), np.uint8),
    )


def result_to_pb(task: Task, output: TaskOutput) -> pb.WorkRequest:
    result = pb.TaskResult(task_id=task.id, attempt=task.attempt)
    if isinstance(output, DetectOutput):
        result.detect.SetInParent()
        for f in output.faces:
            result.detect.faces.append(
                pb.FaceCrop(
                    box=job_pb2.Box(x1=f.box[0], y1=f.box[1], x2=f.box[2], y2=f.box[3]),
                    score=f.score,
                    landmarks=[job_pb2.Point(x=x, y=y) for x, y in f.landmarks],
                    crop=_crop_to_pb(f.crop),
                )
            )
    else:
        result.embed.SetInParent()
        result.embed.embeddings.extend(pb.Embedding(values=v.tolist()) for v in output.vectors)
    return pb.WorkRequest(result=result)


def output_from_pb(msg: pb.TaskResult) -> TaskOutput:
    """The output of a result; ValueError when it is malformed."""
    which = msg.WhichOneof("output")
    if which == "detect":
        return DetectOutput(
            tuple(
                FaceCrop(
                    box=(f.box.x1, f.box.y1, f.box.x2, f.box.y2),
                    score=f.score,
                    landmarks=tuple((p.x, p.y) for p in f.landmarks),
                    crop=_crop_from_pb(f.crop),
                )
                for f in msg.detect.faces
            )
        )
    if which == "embed":
        rows = [np.asarray(e.values, dtype=np.float32) for e in msg.embed.embeddings]
        if any(len(r) != len(rows[0]) for r in rows):
            raise ValueError("embeddings must all have the same length")
        return EmbedOutput(np.stack(rows) if rows else np.zeros((0, 512), np.float32))
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
