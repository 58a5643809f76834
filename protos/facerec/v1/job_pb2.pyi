import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class JobKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_KIND_UNSPECIFIED: _ClassVar[JobKind]
    JOB_KIND_RECOGNIZE: _ClassVar[JobKind]
    JOB_KIND_ENROLL: _ClassVar[JobKind]
    JOB_KIND_REEMBED: _ClassVar[JobKind]

class JobFault(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_FAULT_UNSPECIFIED: _ClassVar[JobFault]
    JOB_FAULT_PHOTO: _ClassVar[JobFault]
    JOB_FAULT_WORKER: _ClassVar[JobFault]
    JOB_FAULT_SERVER: _ClassVar[JobFault]
    JOB_FAULT_CALLER: _ClassVar[JobFault]

class JobEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_EVENT_TYPE_UNSPECIFIED: _ClassVar[JobEventType]
    JOB_EVENT_TYPE_SNAPSHOT: _ClassVar[JobEventType]
    JOB_EVENT_TYPE_STATE_CHANGED: _ClassVar[JobEventType]
    JOB_EVENT_TYPE_FACES_DETECTED: _ClassVar[JobEventType]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
JOB_KIND_UNSPECIFIED: JobKind
JOB_KIND_RECOGNIZE: JobKind
JOB_KIND_ENROLL: JobKind
JOB_KIND_REEMBED: JobKind
JOB_FAULT_UNSPECIFIED: JobFault
JOB_FAULT_PHOTO: JobFault
JOB_FAULT_WORKER: JobFault
JOB_FAULT_SERVER: JobFault
JOB_FAULT_CALLER: JobFault
JOB_EVENT_TYPE_UNSPECIFIED: JobEventType
JOB_EVENT_TYPE_SNAPSHOT: JobEventType
JOB_EVENT_TYPE_STATE_CHANGED: JobEventType
JOB_EVENT_TYPE_FACES_DETECTED: JobEventType

class JobSpec(_message.Message):
    __slots__ = ("collection", "top_k", "min_similarity", "min_detection_score", "priority", "request_id", "min_face_size")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    MIN_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    MIN_DETECTION_SCORE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_FACE_SIZE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    top_k: int
    min_similarity: float
    min_detection_score: float
    priority: int
    request_id: str
    min_face_size: int
    def __init__(self, collection: _Optional[str] = ..., top_k: _Optional[int] = ..., min_similarity: _Optional[float] = ..., min_detection_score: _Optional[float] = ..., priority: _Optional[int] = ..., request_id: _Optional[str] = ..., min_face_size: _Optional[int] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ("x1", "y1", "x2", "y2")
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    X2_FIELD_NUMBER: _ClassVar[int]
    Y2_FIELD_NUMBER: _ClassVar[int]
    x1: float
    y1: float
    x2: float
    y2: float
    def __init__(self, x1: _Optional[float] = ..., y1: _Optional[float] = ..., x2: _Optional[float] = ..., y2: _Optional[float] = ...) -> None: ...

class FaceMatch(_message.Message):
    __slots__ = ("identity_id", "name", "collection", "similarity", "face_id")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    FACE_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    name: str
    collection: str
    similarity: float
    face_id: int
    def __init__(self, identity_id: _Optional[str] = ..., name: _Optional[str] = ..., collection: _Optional[str] = ..., similarity: _Optional[float] = ..., face_id: _Optional[int] = ...) -> None: ...

class DetectedFace(_message.Message):
    __slots__ = ("box", "score", "landmarks", "matches")
    BOX_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LANDMARKS_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    box: Box
    score: float
    landmarks: _containers.RepeatedCompositeFieldContainer[Point]
    matches: _containers.RepeatedCompositeFieldContainer[FaceMatch]
    def __init__(self, box: _Optional[_Union[Box, _Mapping]] = ..., score: _Optional[float] = ..., landmarks: _Optional[_Iterable[_Union[Point, _Mapping]]] = ..., matches: _Optional[_Iterable[_Union[FaceMatch, _Mapping]]] = ...) -> None: ...

class ImageInfo(_message.Message):
    __slots__ = ("width", "height", "format", "size_bytes")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    format: str
    size_bytes: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., format: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ("code", "message", "fault")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    fault: JobFault
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., fault: _Optional[_Union[JobFault, str]] = ...) -> None: ...

class Enrollment(_message.Message):
    __slots__ = ("identity_id", "face_id", "faces_in_photo")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FACE_ID_FIELD_NUMBER: _ClassVar[int]
    FACES_IN_PHOTO_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    face_id: int
    faces_in_photo: int
    def __init__(self, identity_id: _Optional[str] = ..., face_id: _Optional[int] = ..., faces_in_photo: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "kind", "state", "spec", "create_time", "update_time", "image", "faces", "error", "model_id", "untrained_model", "attempt", "enrollment")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    UNTRAINED_MODEL_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: JobKind
    state: JobState
    spec: JobSpec
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    image: ImageInfo
    faces: _containers.RepeatedCompositeFieldContainer[DetectedFace]
    error: JobError
    model_id: str
    untrained_model: bool
    attempt: int
    enrollment: Enrollment
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[JobKind, str]] = ..., state: _Optional[_Union[JobState, str]] = ..., spec: _Optional[_Union[JobSpec, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., image: _Optional[_Union[ImageInfo, _Mapping]] = ..., faces: _Optional[_Iterable[_Union[DetectedFace, _Mapping]]] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., model_id: _Optional[str] = ..., untrained_model: _Optional[bool] = ..., attempt: _Optional[int] = ..., enrollment: _Optional[_Union[Enrollment, _Mapping]] = ...) -> None: ...
