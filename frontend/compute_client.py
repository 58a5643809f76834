"""The front end's only link to compute: one gRPC channel per process, deadlines everywhere."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from facerec.frontend.channel import open_channel
from facerec.frontend.config import FrontendConfig
from facerec.frontend.uploads import NewPhoto, Piece, UploadSpec
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import gallery_service_pb2_grpc as ggrpc
from facerec.v1 import job_pb2, key_service_pb2, key_service_pb2_grpc
from facerec.v1 import recognition_service_pb2 as rpb
from facerec.v1 import recognition_service_pb2_grpc as rgrpc
from facerec.v1 import worker_service_pb2 as wpb
from facerec.v1 import worker_service_pb2_grpc as wgrpc

# Reconnect quickly when compute comes back instead of backing off for minutes.
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
]
WATCH_DEADLINE_SECONDS = 3600.0
# How long a call waits for the channel to (re)connect before it is made. A call made while
# the channel is between reconnection attempts fails at once ("failed to connect to all
# addresses") even though compute is up: just after compute (re)starts, that answered
# uploads 503 while /readyz said 200. Reconnection backoff here is at most 2 s.
READY_WAIT_SECONDS = 3.0


class _RefusedUploadNoise(logging.Filter):
    """grpc logs a traceback whenever a request iterator raises; the front end raises on
    purpose to cancel an upload it refused (and answers the client with the reason)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Exception iterating requests!"


logging.getLogger("grpc._channel").addFilter(_RefusedUploadNoise())


def _job_spec(spec: UploadSpec) -> job_pb2.JobSpec:
    pb = job_pb2.JobSpec(
        collection=spec.collection,
        top_k=spec.top_k,
        priority=spec.priority,
        request_id=spec.request_id,
    )
    if spec.min_similarity is not None:
        pb.min_similarity = spec.min_similarity
    if spec.min_detection_score is not None:
        pb.min_detection_score = spec.min_detection_score
    if spec.min_face_size is not None:
        pb.min_face_size = spec.min_face_size
    return pb


class ComputeClient:
    """Typed calls to the compute server; raises grpc.RpcError on failure."""

    def __init__(self, cfg: FrontendConfig) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._connected = threading.Event()

    def _on_connectivity(self, state: grpc.ChannelConnectivity) -> None:
        if state == grpc.ChannelConnectivity.READY:
            self._connected.set()
        else:
            self._connected.clear()

    @property
    def channel(self) -> grpc.Channel:
        """The channel, once connected (waiting up to READY_WAIT_SECONDS; a call then fails
        with the real reason when compute is really down)."""
        channel = self._open()
        if not self._connected.is_set():
            with contextlib.suppress(grpc.FutureTimeoutError):
                grpc.channel_ready_future(channel).result(timeout=READY_WAIT_SECONDS)
        return channel

    def _open(self) -> grpc.Channel:
        with self._lock:
            if self._channel is None:
                self._channel = open_channel(self.cfg, _CHANNEL_OPTIONS)
                self._channel.subscribe(self._on_connectivity, try_to_connect=True)
                self.recognition = rgrpc.RecognitionServiceStub(self._channel)
                self.gallery = ggrpc.GalleryServiceStub(self._channel)
                self.health = health_pb2_grpc.HealthStub(self._channel)
                self.keys = key_service_pb2_grpc.KeyServiceStub(self._channel)
                self.workers = wgrpc.WorkerServiceStub(self._channel)
            return self._channel

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.unsubscribe(self._on_connectivity)
                self._channel.close()
                self._channel = None
                self._connected.clear()

    def _t(self) -> float:
        return self.cfg.grpc_timeout_seconds

    def ready(self) -> tuple[bool, str]:
        """Whether compute answers this process's health check as SERVING (models loaded)
        within 2 s, connecting first if need be."""
        self._open()
        try:
            resp = self.health.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=2.0, wait_for_ready=True
            )
        except grpc.RpcError as exc:
            return False, f"compute unreachable at {self.cfg.grpc_target}: {exc.code().name}"
        if resp.status != health_pb2.HealthCheckResponse.SERVING:
            return False, "compute is starting (models not loaded yet)"
        return True, "ready"

    def submit(self, pieces: Iterator[Piece]) -> job_pb2.Job:
        """SubmitJob from an UploadSpec followed by the photo's bytes."""

        def requests() -> Iterator[rpb.SubmitJobRequest]:
            for piece in pieces:
                if isinstance(piece, UploadSpec):
                    yield rpb.SubmitJobRequest(spec=_job_spec(piece))
                else:
                    yield rpb.SubmitJobRequest(chunk=piece)

        _ = self.channel
        return self.recognition.SubmitJob(requests(), timeout=self.cfg.upload_timeout_seconds).job

    def get_job(self, job_id: str) -> job_pb2.Job:
        _ = self.channel
        return self.recognition.GetJob(rpb.GetJobRequest(job_id=job_id), timeout=self._t()).job

    def list_jobs(self, states: list[int], page_size: int, token: str) -> rpb.ListJobsResponse:
        _ = self.channel
        req = rpb.ListJobsRequest(states=states, page_size=page_size, page_token=token)
        return self.recognition.ListJobs(req, timeout=self._t())

    def cancel_job(self, job_id: str) -> job_pb2.Job:
        _ = self.channel
        return self.recognition.CancelJob(
            rpb.CancelJobRequest(job_id=job_id), timeout=self._t()
        ).job

    def watch_job(self, job_id: str) -> grpc.Call:
        """A cancellable stream of WatchJobResponse."""
        _ = self.channel
        return self.recognition.WatchJob(
            rpb.WatchJobRequest(job_id=job_id), timeout=WATCH_DEADLINE_SECONDS
        )

    def create_collection(
        self,
        name: str,
        description: str,
        alert_on_match: bool,
        alert_threshold: float | None,
        webhooks: list[tuple[str, str]],
    ) -> gpb.CreateCollectionResponse:
        req = gpb.CreateCollectionRequest(
            name=name,
            description=description,
            alert_on_match=alert_on_match,
            webhooks=[gpb.WebhookSpec(url=u, secret=s) for u, s in webhooks],
        )
        if alert_threshold is not None:
            req.alert_threshold = alert_threshold
        _ = self.channel
        return self.gallery.CreateCollection(req, timeout=self._t())

    def list_alerts(
        self, collection: str, identity_id: str, size: int, token: str
    ) -> rpb.ListAlertsResponse:
        _ = self.channel
        req = rpb.ListAlertsRequest(
            collection=collection, identity_id=identity_id, page_size=size, page_token=token
        )
        return self.recognition.ListAlerts(req, timeout=self._t())

    def watch_alerts(self, after: int, collection: str, identity_id: str) -> grpc.Call:
        """A cancellable, endless stream of WatchAlertsResponse."""
        _ = self.channel
        req = rpb.WatchAlertsRequest(
            after_alert_id=after, collection=collection, identity_id=identity_id
        )
        return self.recognition.WatchAlerts(req, timeout=WATCH_DEADLINE_SECONDS * 24)

    def deliveries(self, alert_id: int) -> rpb.ListWebhookDeliveriesResponse:
        _ = self.channel
        return self.recognition.ListWebhookDeliveries(
            rpb.ListWebhookDeliveriesRequest(alert_id=alert_id), timeout=self._t()
        )

    def list_collections(self) -> gpb.ListCollectionsResponse:
        _ = self.channel
        return self.gallery.ListCollections(gpb.ListCollectionsRequest(), timeout=self._t())

    def delete_collection(self, name: str) -> gpb.DeleteCollectionResponse:
        _ = self.channel
        return self.gallery.DeleteCollection(
            gpb.DeleteCollectionRequest(name=name), timeout=self._t()
        )

    def create_identity(self, collection: str, name: str) -> gpb.CreateIdentityResponse:
        _ = self.channel
        return self.gallery.CreateIdentity(
            gpb.CreateIdentityRequest(collection=collection, name=name), timeout=self._t()
        )

    def list_identities(self, collection: str, size: int, token: str) -> gpb.ListIdentitiesResponse:
        _ = self.channel
        req = gpb.ListIdentitiesRequest(collection=collection, page_size=size, page_token=token)
        return self.gallery.ListIdentities(req, timeout=self._t())

    def get_identity(self, identity_id: str) -> gpb.GetIdentityResponse:
        _ = self.channel
        return self.gallery.GetIdentity(
            gpb.GetIdentityRequest(identity_id=identity_id), timeout=self._t()
        )

    def delete_identity(self, identity_id: str) -> gpb.DeleteIdentityResponse:
        _ = self.channel
        return self.gallery.DeleteIdentity(
            gpb.DeleteIdentityRequest(identity_id=identity_id), timeout=self._t()
        )

    def enroll(self, identity_id: str, pieces: Iterator[Piece]) -> gpb.EnrollFacesResponse:
        """EnrollFaces from NewPhoto markers each followed by a photo's bytes."""

        def requests() -> Iterator[gpb.EnrollFacesRequest]:
            yield gpb.EnrollFacesRequest(spec=gpb.EnrollFacesSpec(identity_id=identity_id))
            for piece in pieces:
                if isinstance(piece, NewPhoto):
                    yield gpb.EnrollFacesRequest(photo_start=gpb.EnrollPhotoStart())
                else:
                    yield gpb.EnrollFacesRequest(chunk=piece)

        _ = self.channel
        return self.gallery.EnrollFaces(requests(), timeout=self.cfg.upload_timeout_seconds)

    def delete_face(self, face_id: int) -> None:
        _ = self.channel
        self.gallery.DeleteFace(gpb.DeleteFaceRequest(face_id=face_id), timeout=self._t())

    def get_model(self) -> gpb.GetModelResponse:
        _ = self.channel
        return self.gallery.GetModel(gpb.GetModelRequest(), timeout=self._t())

    def redeem_login(self, token: str) -> key_service_pb2.RedeemLoginTokenResponse:
        _ = self.channel
        return self.keys.RedeemLoginToken(
            key_service_pb2.RedeemLoginTokenRequest(token=token), timeout=self._t()
        )

    def caller(self) -> key_service_pb2.ApiKey:
        """The key of the current request's credential."""
        _ = self.channel
        return self.keys.GetCaller(key_service_pb2.GetCallerRequest(), timeout=self._t()).key

    def get_collection(self, name: str) -> gpb.Collection:
        """One collection (ListCollections holds them all; galleries have few)."""
        for c in self.list_collections().collections:
            if c.name == name:
                return c
        raise CollectionMissing(name)

    def update_collection(
        self,
        name: str,
        description: str | None,
        alert_on_match: bool | None,
        alert_threshold: float | None,
        model_threshold: bool,
    ) -> gpb.Collection:
        req = gpb.UpdateCollectionRequest(name=name, model_threshold=model_threshold)
        if description is not None:
            req.description = description
        if alert_on_match is not None:
            req.alert_on_match = alert_on_match
        if alert_threshold is not None:
            req.alert_threshold = alert_threshold
        _ = self.channel
        return self.gallery.UpdateCollection(req, timeout=self._t()).collection

    def add_webhook(self, collection: str, url: str, secret: str) -> gpb.AddWebhookResponse:
        _ = self.channel
        req = gpb.AddWebhookRequest(
            collection=collection, webhook=gpb.WebhookSpec(url=url, secret=secret)
        )
        return self.gallery.AddWebhook(req, timeout=self._t())

    def delete_webhook(self, collection: str, webhook_id: int) -> None:
        _ = self.channel
        req = gpb.DeleteWebhookRequest(collection=collection, webhook_id=webhook_id)
        self.gallery.DeleteWebhook(req, timeout=self._t())

    def face_crop(self, face_id: int) -> bytes:
        _ = self.channel
        req = gpb.GetFaceCropRequest(face_id=face_id)
        return self.gallery.GetFaceCrop(req, timeout=self._t()).png

    def list_workers(self) -> wpb.ListWorkersResponse:
        _ = self.channel
        return self.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=self._t())


class CollectionMissing(LookupError):
    """No collection of that name."""
