"""The worker-facing half of the dispatcher: connected sessions, their leases, heartbeats
and expiry. `Dispatcher` adds the job-facing half (claiming, batching, storing results)."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass

from facerec.compute.dispatch.embed_batcher import EmbedBatcher
from facerec.compute.dispatch.worker_session import Deliver, Lease, Session, check_hello
from facerec.compute.tasks import Drained, TaskCancel, TaskError, WorkerHello

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchStats:
    """What ListWorkers shows."""

    sessions: list[Session]
    batch_sizes: dict[int, int]
    batches_across_jobs: int


class SessionRegistry:
    """Sessions by id, all state guarded by one condition (shared with the subclass)."""

    model_id: str
    lease_seconds: float
    batcher: EmbedBatcher

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._sessions: dict[str, Session] = {}
        self._ids = itertools.count(1)

    def _notify(self) -> None:
        """Something changed that may let a task go out."""
        raise NotImplementedError

    def _fail_lease(self, lease: Lease, error: TaskError) -> None:
        """Ends the attempt of every job still waiting on the lease."""
        raise NotImplementedError

    def connect(self, hello: WorkerHello, deliver: Deliver) -> Session:
        """Registers a worker; raises InvalidArgument / FailedPrecondition for a hello that
        cannot be served, with a message saying what to change."""
        detects, embeds = check_hello(hello, self.model_id)
        max_batch = hello.max_batch_size or self.batcher.max_batch
        with self._cond:
            session = Session(
                f"s{next(self._ids)}", hello, deliver, detects, embeds, max(1, max_batch)
            )
            self._sessions[session.id] = session
            self._notify()
        log.info(
            "worker %s connected from %s: %s, %d at once (%s)",
            hello.worker_id,
            hello.peer,
            ",".join(hello.capabilities),
            hello.max_tasks,
            hello.runtime or "runtime not given",
        )
        return session

    def disconnect(self, session: Session) -> None:
        """The worker is gone: its tasks go back (a new attempt for their jobs). Idempotent."""
        with self._cond:
            if session.closed:
                return
            session.closed = True
            self._sessions.pop(session.id, None)
            # Answers already in hand are being stored; the rest go back.
            leases = [lease for lease in session.held.values() if not lease.answered]
            session.held.clear()
            session.failed += len(leases)
            self._notify()
        log.info(
            "worker %s disconnected (%d tasks given back)", session.hello.worker_id, len(leases)
        )
        for lease in leases:
            self._fail_lease(
                lease,
                TaskError(
                    "WORKER_LOST", f"worker {session.hello.worker_id} went away during the task"
                ),
            )

    def disconnect_worker(self, worker_id: str) -> int:
        """A worker known to be dead (a child process that exited): its sessions end now and
        their tasks go back, without waiting for the stream or the lease to notice."""
        with self._cond:
            gone = [s for s in self._sessions.values() if s.hello.worker_id == worker_id]
        for session in gone:
            self.disconnect(session)
        return len(gone)

    def drain_session(self, session: Session) -> None:
        """The worker is stopping: it keeps its leases but gets no new task."""
        with self._cond:
            session.draining = True
            if not session.held:
                session.deliver(Drained())
        log.info(
            "worker %s is draining (%d tasks to finish)", session.hello.worker_id, len(session.held)
        )

    def heartbeat(self, session: Session) -> None:
        """Extends every lease the session holds."""
        expires = time.time() + self.lease_seconds
        with self._cond:
            if session.silent:
                session.silent = False
                self._notify()
            for lease in session.held.values():
                lease.expires = expires

    def stats(self) -> DispatchStats:
        with self._cond:
            return DispatchStats(
                sorted(self._sessions.values(), key=lambda s: s.connected_at),
                dict(self.batcher.sizes),
                self.batcher.across_jobs,
            )

    def _take(self, session: Session, task_id: str, attempt: int) -> Lease | None:
        with self._cond:
            self.heartbeat(session)
            lease = session.held.get(task_id)
            if lease is None or lease.task.attempt != attempt or lease.answered:
                log.info(
                    "rejected an answer from %s for task %s attempt %d: lease not held",
                    session.hello.worker_id,
                    task_id,
                    attempt,
                )
                return None
            lease.answered = True
            return lease

    def _release(self, lease: Lease) -> None:
        """Frees the slot once the answer is stored, so that its EMBED items are queued
        before the worker is handed anything else."""
        with self._cond:
            session = lease.session
            if session.held.get(lease.task.id) is lease:
                del session.held[lease.task.id]
                if session.draining and not session.held:
                    session.deliver(Drained())
            self._notify()

    def _free(self, *, detects: bool = False, embeds: bool = False) -> list[Session]:
        return [
            s
            for s in self._sessions.values()
            if s.free > 0 and (not detects or s.detects) and (not embeds or s.embeds)
        ]

    def _expire_leases(self) -> None:
        now = time.time()
        expired: list[Lease] = []
        with self._cond:
            for session in self._sessions.values():
                for task_id, lease in list(session.held.items()):
                    if lease.expires < now and not lease.answered:
                        del session.held[task_id]
                        session.failed += 1
                        session.silent = True
                        session.deliver(TaskCancel(task_id))
                        expired.append(lease)
        for lease in expired:
            worker = lease.session.hello.worker_id
            log.warning("task %s of worker %s: lease expired", lease.task.id, worker)
            self._fail_lease(
                lease,
                TaskError(
                    "LEASE_EXPIRED",
                    f"worker {worker} sent nothing for {self.lease_seconds:g} s while holding"
                    " the task",
                ),
            )
