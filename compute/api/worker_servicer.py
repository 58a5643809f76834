"""`facerec.v1.WorkerService`: remote workers' sessions with the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from facerec.compute.api.convert import timestamp
from facerec.compute.api.status import streaming, unary
from facerec.compute.dispatch.dispatcher import Dispatcher, Session
from facerec.compute.domain import JobState
from facerec.compute.errors import FacerecError, InvalidArgument
from facerec.compute.tasks import Drained, Task, TaskCancel, TaskError
from facerec.compute.worker import task_convert
from facerec.v1 import worker_service_pb2 as pb
from facerec.v1 import worker_service_pb2_grpc

log = logging.getLogger(__name__)

_END = object()


class WorkerServicer(worker_service_pb2_grpc.WorkerServiceServicer):
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.d = dispatcher

    @streaming
    async def Work(self, request_iterator: Any, context: Any) -> Any:
        stream = aiter(request_iterator)
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            return
        if first.WhichOneof("message") != "hello":
            raise InvalidArgument("the first message of Work must be a hello", reason="BAD_HELLO")
        hello = task_convert.hello_from_pb(first.hello, context.peer())
        loop = asyncio.get_running_loop()
        outbox: asyncio.Queue[Any] = asyncio.Queue()

        def deliver(item: Task | TaskCancel | Drained) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(outbox.put_nowait, item)

        session = self.d.connect(hello, deliver)
        reader = asyncio.create_task(self._read(stream, session, outbox))
        try:
            yield pb.WorkResponse(
                started=pb.WorkStarted(
                    session_id=session.id,
                    lease_seconds=self.d.lease_seconds,
                    heartbeat_seconds=self.d.lease_seconds / 3,
                    model_id=self.d.model_id,
                    crop_kind=self.d.model.crop,
                    embedding_dim=self.d.model.dim,
                )
            )
            while (item := await outbox.get()) is not _END:
                if isinstance(item, FacerecError):
                    raise item
                if isinstance(item, Drained):
                    break  # a draining worker has answered everything: end its stream
                yield task_convert.item_to_pb(item)
        finally:
            reader.cancel()
            await asyncio.to_thread(self.d.disconnect, session)

    async def _read(self, stream: Any, session: Session, outbox: asyncio.Queue[Any]) -> None:
        try:
            async for msg in stream:
                which = msg.WhichOneof("message")
                if which == "result":
                    await self._result(session, msg.result)
                elif which == "failure":
                    f = msg.failure
                    error = task_convert.failure_from_pb(f)
                    await asyncio.to_thread(self.d.fail, session, f.task_id, f.attempt, error)
                elif which == "heartbeat":
                    self.d.heartbeat(session)
                elif which == "draining":
                    self.d.drain_session(session)
                elif which == "hello":
                    outbox.put_nowait(
                        InvalidArgument(
                            "a second hello in one Work stream: open a new stream to start"
                            " another session",
                            reason="BAD_HELLO",
                        )
                    )
                    break
                else:
                    log.warning(
                        "worker %s sent %s mid-session; ignored", session.hello.worker_id, which
                    )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("worker %s stream ended: %s", session.hello.worker_id, exc)
        finally:
            outbox.put_nowait(_END)
        # Give the tasks back now: the response side may be stuck sending a task to the
        # worker that just went away, and would only reach its own cleanup later.
        await asyncio.to_thread(self.d.disconnect, session)

    async def _result(self, session: Session, result: pb.TaskResult) -> None:
        try:
            output = task_convert.output_from_pb(result)
        except ValueError as exc:
            error = TaskError("BAD_RESULT", str(exc))
            await asyncio.to_thread(self.d.fail, session, result.task_id, result.attempt, error)
            return
        await asyncio.to_thread(self.d.complete, session, result.task_id, result.attempt, output)

    @unary
    async def ListWorkers(self, request: pb.ListWorkersRequest, context: Any) -> Any:
        stats = self.d.stats()
        queued = await asyncio.to_thread(self.d.jobs.count, JobState.QUEUED)
        running = await asyncio.to_thread(self.d.jobs.count, JobState.RUNNING)
        return pb.ListWorkersResponse(
            queued_jobs=queued,
            running_jobs=running,
            workers=[
                pb.WorkerInfo(
                    session_id=s.id,
                    worker_id=s.hello.worker_id,
                    capabilities=s.hello.capabilities,
                    max_tasks=s.hello.max_tasks,
                    runtime=s.hello.runtime,
                    peer=s.hello.peer,
                    connected_at=timestamp(s.connected_at),
                    tasks_in_flight=len(s.held),
                    tasks_done=s.done,
                    tasks_failed=s.failed,
                    stage_seconds=s.stage_seconds,
                    crops_embedded=s.crops_embedded,
                )
                for s in stats.sessions
            ],
            embed_batch_sizes=[
                pb.BatchSizeCount(batch_size=size, count=count)
                for size, count in sorted(stats.batch_sizes.items())
            ],
            embed_batches_across_jobs=stats.batches_across_jobs,
            max_batch_size=self.d.batcher.max_batch,
            max_queue_delay_ms=round(self.d.batcher.delay * 1000),
        )
