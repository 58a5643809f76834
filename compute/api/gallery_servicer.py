"""`facerec.v1.GalleryService`: collections, identities, enrolment and search."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from facerec.compute import domain as d
from facerec.compute.api import convert, uploads
from facerec.compute.api.auth import owned
from facerec.compute.api.coordinator import Coordinator
from facerec.compute.api.status import unary
from facerec.compute.dispatch.egress import EgressRefused
from facerec.compute.errors import FailedPrecondition, InvalidArgument, NotFound
from facerec.compute.models import catalog
from facerec.compute.store import codec
from facerec.compute.store.rules import UNCHANGED, validate_collection_name
from facerec.compute.store.spool import Upload
from facerec.compute.tasks import CropKind
from facerec.v1 import gallery_pb2, gallery_service_pb2_grpc
from facerec.v1 import gallery_service_pb2 as pb

MAX_IDENTITY_PAGE = 1000
DEFAULT_IDENTITY_PAGE = 100
MAX_PHOTOS_PER_ENROLMENT = 100


class GalleryServicer(gallery_service_pb2_grpc.GalleryServiceServicer):
    def __init__(self, coordinator: Coordinator) -> None:
        self.c = coordinator

    def _check_destination(self, url: str) -> None:
        """InvalidArgument when a webhook URL names an address the egress policy refuses."""
        try:
            self.c.egress.check_literal(url)
        except EgressRefused as exc:
            raise InvalidArgument(f"webhook {url[:200]!r}: {exc}") from None

    @unary
    async def CreateCollection(self, request: Any, context: Any) -> pb.CreateCollectionResponse:
        threshold = request.alert_threshold if request.HasField("alert_threshold") else None
        for hook in request.webhooks:
            self._check_destination(hook.url)
        col = await asyncio.to_thread(
            self.c.gallery.create_collection,
            request.name,
            request.description,
            request.alert_on_match,
            threshold,
            tuple((w.url, w.secret) for w in request.webhooks),
        )
        return pb.CreateCollectionResponse(
            collection=convert.collection_to_pb(col, self.c.model.alert_threshold)
        )

    @unary
    async def UpdateCollection(self, request: Any, context: Any) -> pb.UpdateCollectionResponse:
        threshold: object = UNCHANGED
        if request.model_threshold:
            threshold = None
        elif request.HasField("alert_threshold"):
            threshold = request.alert_threshold
        col = await asyncio.to_thread(
            self.c.gallery.update_collection,
            request.name,
            request.description if request.HasField("description") else None,
            request.alert_on_match if request.HasField("alert_on_match") else None,
            threshold,
        )
        return pb.UpdateCollectionResponse(
            collection=convert.collection_to_pb(col, self.c.model.alert_threshold)
        )

    @unary
    async def AddWebhook(self, request: Any, context: Any) -> pb.AddWebhookResponse:
        hook = request.webhook
        self._check_destination(hook.url)
        added = await asyncio.to_thread(
            self.c.gallery.add_webhook, request.collection, hook.url, hook.secret
        )
        return pb.AddWebhookResponse(webhook=gallery_pb2.Webhook(id=added.id, url=added.url))

    @unary
    async def DeleteWebhook(self, request: Any, context: Any) -> pb.DeleteWebhookResponse:
        await asyncio.to_thread(
            self.c.gallery.delete_webhook, request.collection, request.webhook_id
        )
        return pb.DeleteWebhookResponse()

    @unary
    async def GetFaceCrop(self, request: Any, context: Any) -> pb.GetFaceCropResponse:
        for kind in (CropKind.BOX_160, CropKind.ARCFACE_112):
            found = await asyncio.to_thread(self.c.gallery.face_crops, [request.face_id], kind)
            if request.face_id in found:
                return pb.GetFaceCropResponse(png=found[request.face_id], kind=int(kind))
        raise NotFound(f"face {request.face_id} has no stored crop (deleted, or enrolled without)")

    @unary
    async def ListCollections(self, request: Any, context: Any) -> pb.ListCollectionsResponse:
        cols = await asyncio.to_thread(self.c.gallery.list_collections)
        return pb.ListCollectionsResponse(
            collections=[convert.collection_to_pb(c, self.c.model.alert_threshold) for c in cols]
        )

    @unary
    async def DeleteCollection(self, request: Any, context: Any) -> pb.DeleteCollectionResponse:
        identities, faces = await asyncio.to_thread(self.c.gallery.delete_collection, request.name)
        self.c.index.drop_collection(request.name)
        await asyncio.to_thread(self.c.erased, [], set(identities))
        return pb.DeleteCollectionResponse(
            deleted_identities=len(identities), deleted_faces=len(faces)
        )

    @unary
    async def CreateIdentity(self, request: Any, context: Any) -> pb.CreateIdentityResponse:
        identity = await asyncio.to_thread(
            self.c.gallery.create_identity, request.collection, request.name
        )
        return pb.CreateIdentityResponse(identity=convert.identity_to_pb(identity))

    @unary
    async def ListIdentities(self, request: Any, context: Any) -> pb.ListIdentitiesResponse:
        size = codec.page_size(request.page_size, DEFAULT_IDENTITY_PAGE, MAX_IDENTITY_PAGE)
        after = None
        if request.page_token:
            name, identity_id = codec.decode_page_token(request.page_token, 2)
            after = (str(name), str(identity_id))
        found, cursor = await asyncio.to_thread(
            self.c.gallery.list_identities, request.collection, size, after
        )
        return pb.ListIdentitiesResponse(
            identities=[convert.identity_to_pb(i) for i in found],
            next_page_token=codec.encode_page_token(*cursor) if cursor else "",
        )

    @unary
    async def GetIdentity(self, request: Any, context: Any) -> pb.GetIdentityResponse:
        identity = await asyncio.to_thread(self.c.gallery.get_identity, request.identity_id)
        return pb.GetIdentityResponse(identity=convert.identity_to_pb(identity))

    @unary
    async def DeleteIdentity(self, request: Any, context: Any) -> pb.DeleteIdentityResponse:
        faces = await asyncio.to_thread(self.c.gallery.delete_identity, request.identity_id)
        await asyncio.to_thread(self.c.erased, faces, {request.identity_id})
        return pb.DeleteIdentityResponse(deleted_faces=len(faces))

    @unary
    async def DeleteFace(self, request: Any, context: Any) -> pb.DeleteFaceResponse:
        face = await asyncio.to_thread(self.c.gallery.delete_face, request.face_id)
        await asyncio.to_thread(self.c.erased, [face])
        return pb.DeleteFaceResponse()

    @unary
    @uploads.answers_early
    async def EnrollFaces(self, stream: AsyncIterator[Any], context: Any) -> pb.EnrollFacesResponse:
        """All photos are received and checked before any job is queued: all or nothing."""
        first = await uploads.first_message(stream, "spec")
        spec_pb = first.spec
        if not 0 <= spec_pb.priority <= d.MAX_PRIORITY:
            raise InvalidArgument(f"priority must be between 0 and {d.MAX_PRIORITY}")
        await asyncio.to_thread(self.c.gallery.get_identity, spec_pb.identity_id)
        received: list[tuple[str, Upload]] = []
        try:
            msg = await anext(stream, None)
            while msg is not None:
                if msg.WhichOneof("payload") != "photo_start":
                    raise InvalidArgument("each photo must begin with a photo_start message")
                if len(received) == MAX_PHOTOS_PER_ENROLMENT:
                    raise InvalidArgument(
                        f"at most {MAX_PHOTOS_PER_ENROLMENT} photos per EnrollFaces call"
                    )
                upload = self.c.spool.upload(self.c.cfg.max_photo_bytes)
                received.append((msg.photo_start.request_id, upload))
                msg = await uploads.receive_photo(
                    stream, upload, stop_at=lambda m: m.WhichOneof("payload") == "photo_start"
                )
            if not received:
                raise InvalidArgument("no photos were sent; send photo_start and chunks")
            jobs = await asyncio.to_thread(self._queue_all, spec_pb, received)
        finally:
            for _, upload in received:
                upload.discard()
        return pb.EnrollFacesResponse(jobs=[self.c.job_to_pb(j) for j in jobs])

    def _queue_all(self, spec_pb: Any, received: list[tuple[str, Upload]]) -> list[d.Job]:
        checked = []
        for n, (request_id, upload) in enumerate(received, start=1):
            spec = owned(
                self.c.submitter.enrollment_spec(spec_pb.identity_id, spec_pb.priority, request_id)
            )
            try:
                image = self.c.submitter.check(upload, spec)
            except InvalidArgument as exc:
                raise InvalidArgument(
                    f"photo {n} of {len(received)}: {exc.message}; nothing was enrolled",
                    reason=exc.reason,
                ) from None
            checked.append((spec, upload, image))
        jobs = []
        for spec, upload, image in checked:
            existing = self.c.submitter.existing(spec)
            jobs.append(existing or self.c.submitter.queue(d.JobKind.ENROLL, spec, upload, image))
        return jobs

    @unary
    async def SearchFaces(self, request: Any, context: Any) -> pb.SearchFacesResponse:
        top_k = request.top_k or d.DEFAULT_TOP_K
        if not 1 <= top_k <= d.MAX_TOP_K:
            raise InvalidArgument(f"top_k must be between 1 and {d.MAX_TOP_K} (got {top_k})")
        model = catalog.MODELS.get(request.model_id, self.c.model)
        min_sim = (
            request.min_similarity if request.HasField("min_similarity") else model.min_similarity
        )
        if not -1.0 <= min_sim <= 1.0:
            raise InvalidArgument(f"min_similarity must be between -1 and 1 (got {min_sim:g})")
        if not request.model_id:
            raise InvalidArgument("model_id is required, e.g. facenet-vggface2")
        known = catalog.MODELS.get(request.model_id)
        if known is None:
            raise FailedPrecondition(
                f"no model {request.model_id!r} is known here (models: "
                f"{', '.join(sorted(catalog.MODELS))}): its embeddings match nothing",
                reason="MODEL_MISMATCH",
            )
        vector = np.asarray(request.embedding, dtype=np.float32)
        if vector.size == 0 or not np.all(np.isfinite(vector)):
            raise InvalidArgument("embedding must be a non-empty list of finite numbers")
        if vector.size != known.dim:
            raise InvalidArgument(
                f"the embedding has {vector.size} numbers; {known.id} embeddings have {known.dim}"
            )
        norm = float(np.linalg.norm(vector))
        if not math.isclose(norm, 1.0, abs_tol=1e-2):
            raise InvalidArgument(f"embedding must be L2-normalised (its norm is {norm:.3f})")
        if request.collection:
            validate_collection_name(request.collection)
            await asyncio.to_thread(self.c.gallery.get_collection, request.collection)
            await asyncio.to_thread(
                self.c.matcher.check_model, request.collection, request.model_id
            )
        else:
            models = {m for _, m in await asyncio.to_thread(self.c.gallery.index_keys)}
            if models and request.model_id not in models:
                raise FailedPrecondition(
                    f"no collection holds faces embedded with {request.model_id!r} (the"
                    f" gallery's are embedded with {', '.join(sorted(models))}): embeddings of"
                    " different models cannot be compared",
                    reason="MODEL_MISMATCH",
                )
        try:
            (matches,) = await asyncio.to_thread(
                self.c.matcher.match,
                vector[None, :],
                request.model_id,
                request.collection,
                top_k,
                min_sim,
            )
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        return pb.SearchFacesResponse(matches=[convert.match_to_pb(m) for m in matches])

    @unary
    async def GetModel(self, request: Any, context: Any) -> pb.GetModelResponse:
        progress = await asyncio.to_thread(self.c.reembedder.progress)
        return pb.GetModelResponse(
            model=convert.model_to_pb(self.c.model),
            reembeddings=[convert.reembedding_to_pb(p) for p in progress],
        )
