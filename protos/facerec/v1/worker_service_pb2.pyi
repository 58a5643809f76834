import datetime

from facerec.v1 import job_pb2 as _job_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CropKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CROP_KIND_UNSPECIFIED: _ClassVar[CropKind]
    CROP_KIND_BOX_160: _ClassVar[CropKind]
    CROP_KIND_ARCFACE_112: _ClassVar[CropKind]

class TaskKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_KIND_UNSPECIFIED: _ClassVar[TaskKind]
    TASK_KIND_DETECT: _ClassVar[TaskKind]
    TASK_KIND_EMBED: _ClassVar[TaskKind]
CROP_KIND_UNSPECIFIED: CropKind
CROP_KIND_BOX_160: CropKind
CROP_KIND_ARCFACE_112: CropKind
TASK_KIND_UNSPECIFIED: TaskKind
TASK_KIND_DETECT: TaskKind
TASK_KIND_EMBED: TaskKind

class WorkRequest(_message.Message):
    __slots__ = ("hello", "result", "failure", "heartbeat", "draining")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    hello: WorkerHello
    result: TaskResult
    failure: TaskFailure
    heartbeat: TaskHeartbeat
    draining: WorkerDraining
    def __init__(self, hello: _Optional[_Union[WorkerHello, _Mapping]] = ..., result: _Optional[_Union[TaskResult, _Mapping]] = ..., failure: _Optional[_Union[TaskFailure, _Mapping]] = ..., heartbeat: _Optional[_Union[TaskHeartbeat, _Mapping]] = ..., draining: _Optional[_Union[WorkerDraining, _Mapping]] = ...) -> None: ...

class WorkerHello(_message.Message):
    __slots__ = ("worker_id", "capabilities", "max_tasks", "max_batch_size", "runtime")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    MAX_TASKS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    max_tasks: int
    max_batch_size: int
    runtime: str
    def __init__(self, worker_id: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., max_tasks: _Optional[int] = ..., max_batch_size: _Optional[int] = ..., runtime: _Optional[str] = ...) -> None: ...

class WorkResponse(_message.Message):
    __slots__ = ("started", "task", "cancel")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    started: WorkStarted
    task: Task
    cancel: TaskCancel
    def __init__(self, started: _Optional[_Union[WorkStarted, _Mapping]] = ..., task: _Optional[_Union[Task, _Mapping]] = ..., cancel: _Optional[_Union[TaskCancel, _Mapping]] = ...) -> None: ...

class WorkStarted(_message.Message):
    __slots__ = ("session_id", "lease_seconds", "heartbeat_seconds", "model_id", "crop_kind", "embedding_dim")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    CROP_KIND_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIM_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    lease_seconds: float
    heartbeat_seconds: float
    model_id: str
    crop_kind: CropKind
    embedding_dim: int
    def __init__(self, session_id: _Optional[str] = ..., lease_seconds: _Optional[float] = ..., heartbeat_seconds: _Optional[float] = ..., model_id: _Optional[str] = ..., crop_kind: _Optional[_Union[CropKind, str]] = ..., embedding_dim: _Optional[int] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "attempt", "kind", "lease_expires_at", "detect", "embed")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    DETECT_FIELD_NUMBER: _ClassVar[int]
    EMBED_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    attempt: int
    kind: TaskKind
    lease_expires_at: _timestamp_pb2.Timestamp
    detect: DetectInput
    embed: EmbedInput
    def __init__(self, task_id: _Optional[str] = ..., attempt: _Optional[int] = ..., kind: _Optional[_Union[TaskKind, str]] = ..., lease_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detect: _Optional[_Union[DetectInput, _Mapping]] = ..., embed: _Optional[_Union[EmbedInput, _Mapping]] = ...) -> None: ...

class DetectInput(_message.Message):
    __slots__ = ("photo", "min_detection_score", "crop_kinds", "min_face_size")
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    MIN_DETECTION_SCORE_FIELD_NUMBER: _ClassVar[int]
    CROP_KINDS_FIELD_NUMBER: _ClassVar[int]
    MIN_FACE_SIZE_FIELD_NUMBER: _ClassVar[int]
    photo: bytes
    min_detection_score: float
    crop_kinds: _containers.RepeatedScalarFieldContainer[CropKind]
    min_face_size: int
    def __init__(self, photo: _Optional[bytes] = ..., min_detection_score: _Optional[float] = ..., crop_kinds: _Optional[_Iterable[_Union[CropKind, str]]] = ..., min_face_size: _Optional[int] = ...) -> None: ...

class Crop(_message.Message):
    __slots__ = ("width", "height", "rgb", "kind")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    RGB_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    rgb: bytes
    kind: CropKind
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., rgb: _Optional[bytes] = ..., kind: _Optional[_Union[CropKind, str]] = ...) -> None: ...

class EmbedInput(_message.Message):
    __slots__ = ("model_id", "crops")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    CROPS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    crops: _containers.RepeatedCompositeFieldContainer[Crop]
    def __init__(self, model_id: _Optional[str] = ..., crops: _Optional[_Iterable[_Union[Crop, _Mapping]]] = ...) -> None: ...

class FaceCrop(_message.Message):
    __slots__ = ("box", "score", "landmarks", "crop", "more_crops")
    BOX_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LANDMARKS_FIELD_NUMBER: _ClassVar[int]
    CROP_FIELD_NUMBER: _ClassVar[int]
    MORE_CROPS_FIELD_NUMBER: _ClassVar[int]
    box: _job_pb2.Box
    score: float
    landmarks: _containers.RepeatedCompositeFieldContainer[_job_pb2.Point]
    crop: Crop
    more_crops: _containers.RepeatedCompositeFieldContainer[Crop]
    def __init__(self, box: _Optional[_Union[_job_pb2.Box, _Mapping]] = ..., score: _Optional[float] = ..., landmarks: _Optional[_Iterable[_Union[_job_pb2.Point, _Mapping]]] = ..., crop: _Optional[_Union[Crop, _Mapping]] = ..., more_crops: _Optional[_Iterable[_Union[Crop, _Mapping]]] = ...) -> None: ...

class DetectOutput(_message.Message):
    __slots__ = ("faces",)
    FACES_FIELD_NUMBER: _ClassVar[int]
    faces: _containers.RepeatedCompositeFieldContainer[FaceCrop]
    def __init__(self, faces: _Optional[_Iterable[_Union[FaceCrop, _Mapping]]] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class EmbedOutput(_message.Message):
    __slots__ = ("embeddings",)
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    embeddings: _containers.RepeatedCompositeFieldContainer[Embedding]
    def __init__(self, embeddings: _Optional[_Iterable[_Union[Embedding, _Mapping]]] = ...) -> None: ...

class TaskResult(_message.Message):
    __slots__ = ("task_id", "attempt", "detect", "embed", "stage_seconds")
    class StageSecondsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    DETECT_FIELD_NUMBER: _ClassVar[int]
    EMBED_FIELD_NUMBER: _ClassVar[int]
    STAGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    attempt: int
    detect: DetectOutput
    embed: EmbedOutput
    stage_seconds: _containers.ScalarMap[str, float]
    def __init__(self, task_id: _Optional[str] = ..., attempt: _Optional[int] = ..., detect: _Optional[_Union[DetectOutput, _Mapping]] = ..., embed: _Optional[_Union[EmbedOutput, _Mapping]] = ..., stage_seconds: _Optional[_Mapping[str, float]] = ...) -> None: ...

class TaskFailure(_message.Message):
    __slots__ = ("task_id", "attempt", "code", "message", "permanent")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    attempt: int
    code: str
    message: str
    permanent: bool
    def __init__(self, task_id: _Optional[str] = ..., attempt: _Optional[int] = ..., code: _Optional[str] = ..., message: _Optional[str] = ..., permanent: _Optional[bool] = ...) -> None: ...

class TaskHeartbeat(_message.Message):
    __slots__ = ("task_ids",)
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, task_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WorkerDraining(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TaskCancel(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class ListWorkersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WorkerInfo(_message.Message):
    __slots__ = ("session_id", "worker_id", "capabilities", "max_tasks", "runtime", "peer", "connected_at", "tasks_in_flight", "tasks_done", "tasks_failed", "stage_seconds", "crops_embedded")
    class StageSecondsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    MAX_TASKS_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    TASKS_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    TASKS_DONE_FIELD_NUMBER: _ClassVar[int]
    TASKS_FAILED_FIELD_NUMBER: _ClassVar[int]
    STAGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CROPS_EMBEDDED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    worker_id: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    max_tasks: int
    runtime: str
    peer: str
    connected_at: _timestamp_pb2.Timestamp
    tasks_in_flight: int
    tasks_done: int
    tasks_failed: int
    stage_seconds: _containers.ScalarMap[str, float]
    crops_embedded: int
    def __init__(self, session_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., max_tasks: _Optional[int] = ..., runtime: _Optional[str] = ..., peer: _Optional[str] = ..., connected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tasks_in_flight: _Optional[int] = ..., tasks_done: _Optional[int] = ..., tasks_failed: _Optional[int] = ..., stage_seconds: _Optional[_Mapping[str, float]] = ..., crops_embedded: _Optional[int] = ...) -> None: ...

class BatchSizeCount(_message.Message):
    __slots__ = ("batch_size", "count")
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    batch_size: int
    count: int
    def __init__(self, batch_size: _Optional[int] = ..., count: _Optional[int] = ...) -> None: ...

class ListWorkersResponse(_message.Message):
    __slots__ = ("workers", "embed_batch_sizes", "embed_batches_across_jobs", "max_batch_size", "max_queue_delay_ms", "queued_jobs", "running_jobs")
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    EMBED_BATCH_SIZES_FIELD_NUMBER: _ClassVar[int]
    EMBED_BATCHES_ACROSS_JOBS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_JOBS_FIELD_NUMBER: _ClassVar[int]
    RUNNING_JOBS_FIELD_NUMBER: _ClassVar[int]
    workers: _containers.RepeatedCompositeFieldContainer[WorkerInfo]
    embed_batch_sizes: _containers.RepeatedCompositeFieldContainer[BatchSizeCount]
    embed_batches_across_jobs: int
    max_batch_size: int
    max_queue_delay_ms: int
    queued_jobs: int
    running_jobs: int
    def __init__(self, workers: _Optional[_Iterable[_Union[WorkerInfo, _Mapping]]] = ..., embed_batch_sizes: _Optional[_Iterable[_Union[BatchSizeCount, _Mapping]]] = ..., embed_batches_across_jobs: _Optional[int] = ..., max_batch_size: _Optional[int] = ..., max_queue_delay_ms: _Optional[int] = ..., queued_jobs: _Optional[int] = ..., running_jobs: _Optional[int] = ...) -> None: ...
