"""`facerec.v1.RecognitionService` over the job store, spool and events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from facerec.compute import domain as d
from facerec.compute.api import convert, uploads
from facerec.compute.api.auth import owned, owner_filter, visible
from facerec.compute.api.coordinator import Coordinator
from facerec.compute.api.status import code_of, streaming, unary
from facerec.compute.errors import FacerecError, Internal, InvalidArgument
from facerec.compute.store import codec
from facerec.v1 import job_pb2, recognition_service_pb2_grpc
from facerec.v1 import recognition_service_pb2 as pb

log = logging.getLogger(__name__)

MAX_PAGE = 500
DEFAULT_PAGE = 50
MAX_CLIENT_ID = 128
_RECHECK_SECONDS = 5.0


class RecognitionServicer(recognition_service_pb2_grpc.RecognitionServiceServicer):
    def __init__(self, coordinator: Coordinator) -> None:
        self.c = coordinator

    def _job(self, job: d.Job) -> job_pb2.Job:
        return self.c.job_to_pb(job)

    @unary
    @uploads.answers_early
    async def SubmitJob(self, stream: AsyncIterator[Any], context: Any) -> pb.SubmitJobResponse:
        first = await uploads.first_message(stream, "spec")
        spec = owned(convert.spec_from_pb(first.spec, self.c.model.min_similarity))
        if self.c.submitter.needs_store(spec):
            spec, existing = await asyncio.to_thread(self.c.submitter.prepare, spec)
        else:
            self.c.submitter.check_ranges(spec)
            existing = None
        if existing is not None:
            sent = await uploads.drain(stream, self.c.cfg.max_photo_bytes)
            return pb.SubmitJobResponse(job=self._job(uploads.same_photo(existing, sent)))
        upload = self.c.spool.upload(self.c.cfg.max_photo_bytes)
        try:
            await uploads.receive_photo(stream, upload)
        except BaseException:
            upload.discard()
            raise
        job = await uploads.submit(self.c.submitter, d.JobKind.RECOGNIZE, spec, upload)
        return pb.SubmitJobResponse(job=self._job(job))

    @unary
    async def GetJob(self, request: pb.GetJobRequest, context: Any) -> pb.GetJobResponse:
        job = visible(await asyncio.to_thread(self.c.jobs.get, request.job_id))
        return pb.GetJobResponse(job=self._job(job))

    @unary
    async def ListJobs(self, request: pb.ListJobsRequest, context: Any) -> pb.ListJobsResponse:
        size = codec.page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE)
        states = []
        for s in request.states:
            if s not in d.JobState._value2member_map_:
                raise InvalidArgument(f"unknown job state {s}")
            states.append(d.JobState(s))
        after = None
        if request.page_token:
            created, job_id = codec.decode_page_token(request.page_token, 2)
            after = (float(created), str(job_id))
        jobs, cursor = await asyncio.to_thread(
            self.c.jobs.list, states, size, after, owner_filter()
        )
        token = codec.encode_page_token(*cursor) if cursor else ""
        return pb.ListJobsResponse(jobs=[self._job(j) for j in jobs], next_page_token=token)

    @unary
    async def CancelJob(self, request: pb.CancelJobRequest, context: Any) -> pb.CancelJobResponse:
        visible(await asyncio.to_thread(self.c.jobs.get, request.job_id))
        job = await asyncio.to_thread(self.c.cancel, request.job_id)
        return pb.CancelJobResponse(job=self._job(job))

    @streaming
    async def WatchJob(
        self, request: pb.WatchJobRequest, context: Any
    ) -> AsyncIterator[pb.WatchJobResponse]:
        visible(await asyncio.to_thread(self.c.jobs.get, request.job_id))
        async for event in self.c.watch(request.job_id):
            yield pb.WatchJobResponse(type=int(event.type), job=self._job(event.job))

    @streaming
    async def WatchAlerts(
        self, request: pb.WatchAlertsRequest, context: Any
    ) -> AsyncIterator[pb.WatchAlertsResponse]:
        if request.after_alert_id < 0:
            raise InvalidArgument("after_alert_id must not be negative")
        async for alert in self.c.watch_alerts(
            request.after_alert_id, request.collection, request.identity_id, owner_filter()
        ):
            yield pb.WatchAlertsResponse(alert=convert.alert_to_pb(alert))

    @unary
    async def ListAlerts(
        self, request: pb.ListAlertsRequest, context: Any
    ) -> pb.ListAlertsResponse:
        size = codec.page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE)
        before = None
        if request.page_token:
            (before,) = codec.decode_page_token(request.page_token, 1)
            before = int(before)
        alerts, cursor = await asyncio.to_thread(
            self.c.alerts.page,
            request.collection,
            request.identity_id,
            size,
            before,
            owner_filter(),
        )
        return pb.ListAlertsResponse(
            alerts=[convert.alert_to_pb(a) for a in alerts],
            next_page_token=codec.encode_page_token(cursor) if cursor else "",
        )

    @unary
    async def ListWebhookDeliveries(
        self, request: pb.ListWebhookDeliveriesRequest, context: Any
    ) -> pb.ListWebhookDeliveriesResponse:
        deliveries = await asyncio.to_thread(self.c.alerts.deliveries, request.alert_id)
        return pb.ListWebhookDeliveriesResponse(
            deliveries=[convert.delivery_to_pb(x) for x in deliveries]
        )

    async def Recognize(
        self, request_iterator: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.RecognizeResponse]:
        session = _RecognizeSession(self)
        reader = asyncio.create_task(session.read(request_iterator))
        try:
            while True:
                item = await session.out.get()
                if item is None:
                    break
                yield item
        finally:
            reader.cancel()
            for task in session.tasks:
                task.cancel()
            for _, upload in session.open.values():
                upload.discard()
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            exc = reader.exception()
            if isinstance(exc, FacerecError):
                await context.abort(code_of(exc), exc.message)
            raise exc


class _RecognizeSession:
    """State of one Recognize stream: photos being received and jobs being awaited."""

    def __init__(self, servicer: RecognitionServicer) -> None:
        self.s = servicer
        self.c = servicer.c
        self.out: asyncio.Queue[pb.RecognizeResponse | None] = asyncio.Queue()
        self.open: dict[str, tuple[d.JobSpec, Any]] = {}
        self.failed: set[str] = set()
        self.ended: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def _error(self, client_id: str, exc: FacerecError) -> None:
        self.failed.add(client_id)
        self.out.put_nowait(
            pb.RecognizeResponse(
                client_id=client_id,
                error=pb.RecognizeError(code=code_of(exc).value[0], message=exc.message),
            )
        )

    async def read(self, request_iterator: Any) -> None:
        try:
            async for msg in request_iterator:
                cid = msg.client_id
                if not cid or len(cid) > MAX_CLIENT_ID:
                    raise InvalidArgument(f"client_id must be 1-{MAX_CLIENT_ID} characters")
                try:
                    await self._handle(cid, msg)
                except FacerecError as exc:
                    entry = self.open.pop(cid, None)
                    if entry is not None:
                        entry[1].discard()
                    self._error(cid, exc)
            for cid, (_, upload) in list(self.open.items()):
                upload.discard()
                self._error(cid, InvalidArgument("the stream ended before this photo's end"))
            self.open.clear()
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
        finally:
            self.out.put_nowait(None)

    async def _handle(self, cid: str, msg: Any) -> None:
        kind = msg.WhichOneof("payload")
        if kind == "start":
            if cid in self.open:
                raise InvalidArgument(f"photo {cid!r} was started twice")
            if cid in self.ended:
                raise InvalidArgument(
                    f"client_id {cid!r} was used for a photo already in this stream; give each"
                    " photo a client_id of its own"
                )
            self.failed.discard(cid)
            spec = await asyncio.to_thread(
                self.c.submitter.validate,
                owned(convert.spec_from_pb(msg.start.spec, self.c.model.min_similarity)),
            )
            self.open[cid] = (spec, self.c.spool.upload(self.c.cfg.max_photo_bytes))
        elif cid in self.failed:
            return  # the rest of a photo that was already refused
        elif cid not in self.open:
            raise InvalidArgument(f"photo {cid!r} has no start message")
        elif kind == "chunk":
            self.open[cid][1].write(msg.chunk)
        elif kind == "end":
            spec, upload = self.open.pop(cid)
            self.ended.add(cid)
            task = asyncio.create_task(self._finish(cid, spec, upload))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        else:
            raise InvalidArgument("each message needs start, chunk or end")

    async def _finish(self, cid: str, spec: d.JobSpec, upload: Any) -> None:
        try:
            existing = await asyncio.to_thread(self.c.submitter.existing, spec)
            if existing is not None:
                sent = upload.finish()
                upload.discard()
                job = uploads.same_photo(existing, sent)
            else:
                job = await uploads.submit(self.c.submitter, d.JobKind.RECOGNIZE, spec, upload)
            final = job
            async for event in self.c.watch(job.id):
                final = event.job
            self.out.put_nowait(pb.RecognizeResponse(client_id=cid, job=self.s._job(final)))
        except FacerecError as exc:
            self._error(cid, exc)
        except Exception:
            log.exception("recognize photo %s failed", cid)
            with contextlib.suppress(Exception):
                self._error(cid, Internal("internal error while queueing the photo"))
