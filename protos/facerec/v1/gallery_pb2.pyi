import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReembeddingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REEMBEDDING_STATE_UNSPECIFIED: _ClassVar[ReembeddingState]
    REEMBEDDING_STATE_RUNNING: _ClassVar[ReembeddingState]
    REEMBEDDING_STATE_NEEDS_ENROLMENT: _ClassVar[ReembeddingState]
REEMBEDDING_STATE_UNSPECIFIED: ReembeddingState
REEMBEDDING_STATE_RUNNING: ReembeddingState
REEMBEDDING_STATE_NEEDS_ENROLMENT: ReembeddingState

class Collection(_message.Message):
    __slots__ = ("name", "description", "identity_count", "face_count", "create_time", "alert_on_match", "alert_threshold", "webhooks", "model_threshold")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_COUNT_FIELD_NUMBER: _ClassVar[int]
    FACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ALERT_ON_MATCH_FIELD_NUMBER: _ClassVar[int]
    ALERT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    MODEL_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    identity_count: int
    face_count: int
    create_time: _timestamp_pb2.Timestamp
    alert_on_match: bool
    alert_threshold: float
    webhooks: _containers.RepeatedCompositeFieldContainer[Webhook]
    model_threshold: bool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., identity_count: _Optional[int] = ..., face_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., alert_on_match: _Optional[bool] = ..., alert_threshold: _Optional[float] = ..., webhooks: _Optional[_Iterable[_Union[Webhook, _Mapping]]] = ..., model_threshold: _Optional[bool] = ...) -> None: ...

class Webhook(_message.Message):
    __slots__ = ("id", "url")
    ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    id: int
    url: str
    def __init__(self, id: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class GalleryFace(_message.Message):
    __slots__ = ("id", "model_id", "source_job_id", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    model_id: str
    source_job_id: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., model_id: _Optional[str] = ..., source_job_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Identity(_message.Message):
    __slots__ = ("id", "collection", "name", "face_count", "create_time", "faces")
    ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    id: str
    collection: str
    name: str
    face_count: int
    create_time: _timestamp_pb2.Timestamp
    faces: _containers.RepeatedCompositeFieldContainer[GalleryFace]
    def __init__(self, id: _Optional[str] = ..., collection: _Optional[str] = ..., name: _Optional[str] = ..., face_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., faces: _Optional[_Iterable[_Union[GalleryFace, _Mapping]]] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("id", "embedding_dim", "trained", "runtime", "default_min_similarity", "default_alert_threshold", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIM_FIELD_NUMBER: _ClassVar[int]
    TRAINED_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MIN_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ALERT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    embedding_dim: int
    trained: bool
    runtime: str
    default_min_similarity: float
    default_alert_threshold: float
    description: str
    def __init__(self, id: _Optional[str] = ..., embedding_dim: _Optional[int] = ..., trained: _Optional[bool] = ..., runtime: _Optional[str] = ..., default_min_similarity: _Optional[float] = ..., default_alert_threshold: _Optional[float] = ..., description: _Optional[str] = ...) -> None: ...

class Reembedding(_message.Message):
    __slots__ = ("collection", "from_models", "faces_total", "faces_done", "state")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    FROM_MODELS_FIELD_NUMBER: _ClassVar[int]
    FACES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FACES_DONE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    from_models: _containers.RepeatedScalarFieldContainer[str]
    faces_total: int
    faces_done: int
    state: ReembeddingState
    def __init__(self, collection: _Optional[str] = ..., from_models: _Optional[_Iterable[str]] = ..., faces_total: _Optional[int] = ..., faces_done: _Optional[int] = ..., state: _Optional[_Union[ReembeddingState, str]] = ...) -> None: ...
