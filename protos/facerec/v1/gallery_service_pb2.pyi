from facerec.v1 import gallery_pb2 as _gallery_pb2
from facerec.v1 import job_pb2 as _job_pb2
from facerec.v1 import worker_service_pb2 as _worker_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UpdateCollectionRequest(_message.Message):
    __slots__ = ("name", "description", "alert_on_match", "alert_threshold", "model_threshold")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALERT_ON_MATCH_FIELD_NUMBER: _ClassVar[int]
    ALERT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MODEL_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    alert_on_match: bool
    alert_threshold: float
    model_threshold: bool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., alert_on_match: _Optional[bool] = ..., alert_threshold: _Optional[float] = ..., model_threshold: _Optional[bool] = ...) -> None: ...

class UpdateCollectionResponse(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: _gallery_pb2.Collection
    def __init__(self, collection: _Optional[_Union[_gallery_pb2.Collection, _Mapping]] = ...) -> None: ...

class AddWebhookRequest(_message.Message):
    __slots__ = ("collection", "webhook")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    collection: str
    webhook: WebhookSpec
    def __init__(self, collection: _Optional[str] = ..., webhook: _Optional[_Union[WebhookSpec, _Mapping]] = ...) -> None: ...

class AddWebhookResponse(_message.Message):
    __slots__ = ("webhook",)
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: _gallery_pb2.Webhook
    def __init__(self, webhook: _Optional[_Union[_gallery_pb2.Webhook, _Mapping]] = ...) -> None: ...

class DeleteWebhookRequest(_message.Message):
    __slots__ = ("collection", "webhook_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    webhook_id: int
    def __init__(self, collection: _Optional[str] = ..., webhook_id: _Optional[int] = ...) -> None: ...

class DeleteWebhookResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetFaceCropRequest(_message.Message):
    __slots__ = ("face_id",)
    FACE_ID_FIELD_NUMBER: _ClassVar[int]
    face_id: int
    def __init__(self, face_id: _Optional[int] = ...) -> None: ...

class GetFaceCropResponse(_message.Message):
    __slots__ = ("png", "kind")
    PNG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    kind: _worker_service_pb2.CropKind
    def __init__(self, png: _Optional[bytes] = ..., kind: _Optional[_Union[_worker_service_pb2.CropKind, str]] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("name", "description", "alert_on_match", "alert_threshold", "webhooks")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALERT_ON_MATCH_FIELD_NUMBER: _ClassVar[int]
    ALERT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    alert_on_match: bool
    alert_threshold: float
    webhooks: _containers.RepeatedCompositeFieldContainer[WebhookSpec]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., alert_on_match: _Optional[bool] = ..., alert_threshold: _Optional[float] = ..., webhooks: _Optional[_Iterable[_Union[WebhookSpec, _Mapping]]] = ...) -> None: ...

class WebhookSpec(_message.Message):
    __slots__ = ("url", "secret")
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    url: str
    secret: str
    def __init__(self, url: _Optional[str] = ..., secret: _Optional[str] = ...) -> None: ...

class CreateCollectionResponse(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: _gallery_pb2.Collection
    def __init__(self, collection: _Optional[_Union[_gallery_pb2.Collection, _Mapping]] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[_gallery_pb2.Collection]
    def __init__(self, collections: _Optional[_Iterable[_Union[_gallery_pb2.Collection, _Mapping]]] = ...) -> None: ...

class DeleteCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ("deleted_identities", "deleted_faces")
    DELETED_IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    DELETED_FACES_FIELD_NUMBER: _ClassVar[int]
    deleted_identities: int
    deleted_faces: int
    def __init__(self, deleted_identities: _Optional[int] = ..., deleted_faces: _Optional[int] = ...) -> None: ...

class CreateIdentityRequest(_message.Message):
    __slots__ = ("collection", "name")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    collection: str
    name: str
    def __init__(self, collection: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateIdentityResponse(_message.Message):
    __slots__ = ("identity",)
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    identity: _gallery_pb2.Identity
    def __init__(self, identity: _Optional[_Union[_gallery_pb2.Identity, _Mapping]] = ...) -> None: ...

class ListIdentitiesRequest(_message.Message):
    __slots__ = ("collection", "page_size", "page_token")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    collection: str
    page_size: int
    page_token: str
    def __init__(self, collection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIdentitiesResponse(_message.Message):
    __slots__ = ("identities", "next_page_token")
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    identities: _containers.RepeatedCompositeFieldContainer[_gallery_pb2.Identity]
    next_page_token: str
    def __init__(self, identities: _Optional[_Iterable[_Union[_gallery_pb2.Identity, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetIdentityRequest(_message.Message):
    __slots__ = ("identity_id",)
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    def __init__(self, identity_id: _Optional[str] = ...) -> None: ...

class GetIdentityResponse(_message.Message):
    __slots__ = ("identity",)
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    identity: _gallery_pb2.Identity
    def __init__(self, identity: _Optional[_Union[_gallery_pb2.Identity, _Mapping]] = ...) -> None: ...

class DeleteIdentityRequest(_message.Message):
    __slots__ = ("identity_id",)
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    def __init__(self, identity_id: _Optional[str] = ...) -> None: ...

class DeleteIdentityResponse(_message.Message):
    __slots__ = ("deleted_faces",)
    DELETED_FACES_FIELD_NUMBER: _ClassVar[int]
    deleted_faces: int
    def __init__(self, deleted_faces: _Optional[int] = ...) -> None: ...

class EnrollFacesSpec(_message.Message):
    __slots__ = ("identity_id", "priority")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    priority: int
    def __init__(self, identity_id: _Optional[str] = ..., priority: _Optional[int] = ...) -> None: ...

class EnrollPhotoStart(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class EnrollFacesRequest(_message.Message):
    __slots__ = ("spec", "photo_start", "chunk")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    PHOTO_START_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    spec: EnrollFacesSpec
    photo_start: EnrollPhotoStart
    chunk: bytes
    def __init__(self, spec: _Optional[_Union[EnrollFacesSpec, _Mapping]] = ..., photo_start: _Optional[_Union[EnrollPhotoStart, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class EnrollFacesResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[_job_pb2.Job]
    def __init__(self, jobs: _Optional[_Iterable[_Union[_job_pb2.Job, _Mapping]]] = ...) -> None: ...

class DeleteFaceRequest(_message.Message):
    __slots__ = ("face_id",)
    FACE_ID_FIELD_NUMBER: _ClassVar[int]
    face_id: int
    def __init__(self, face_id: _Optional[int] = ...) -> None: ...

class DeleteFaceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SearchFacesRequest(_message.Message):
    __slots__ = ("collection", "embedding", "model_id", "top_k", "min_similarity")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    MIN_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    collection: str
    embedding: _containers.RepeatedScalarFieldContainer[float]
    model_id: str
    top_k: int
    min_similarity: float
    def __init__(self, collection: _Optional[str] = ..., embedding: _Optional[_Iterable[float]] = ..., model_id: _Optional[str] = ..., top_k: _Optional[int] = ..., min_similarity: _Optional[float] = ...) -> None: ...

class SearchFacesResponse(_message.Message):
    __slots__ = ("matches",)
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[_job_pb2.FaceMatch]
    def __init__(self, matches: _Optional[_Iterable[_Union[_job_pb2.FaceMatch, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model", "reembeddings")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REEMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    model: _gallery_pb2.ModelInfo
    reembeddings: _containers.RepeatedCompositeFieldContainer[_gallery_pb2.Reembedding]
    def __init__(self, model: _Optional[_Union[_gallery_pb2.ModelInfo, _Mapping]] = ..., reembeddings: _Optional[_Iterable[_Union[_gallery_pb2.Reembedding, _Mapping]]] = ...) -> None: ...
