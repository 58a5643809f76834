"""Fan-out of job events from worker threads to WatchJob streams on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from facerec.compute.domain import Alert, Job, JobEvent, JobEventType

log = logging.getLogger(__name__)


class JobEvents:
    """Thread-safe publish; subscribers are asyncio queues on one loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._subscribers: dict[str, set[asyncio.Queue[JobEvent]]] = defaultdict(set)

    def publish(self, job: Job | None, type_: JobEventType = JobEventType.STATE_CHANGED) -> None:
        """Announces a change of `job` (None is ignored, for fenced updates that lost)."""
        if job is None:
            return
        event = JobEvent(type_, job)
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            self.loop.call_soon_threadsafe(self._dispatch, event)

    def publish_all(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.publish(job)

    def _dispatch(self, event: JobEvent) -> None:
        for queue in self._subscribers.get(event.job.id, ()):
            queue.put_nowait(event)

    def subscribe(self, job_id: str) -> asyncio.Queue[JobEvent]:
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._subscribers[job_id].add(queue)
        return queue

    def unsubscribe(self, job_id: str, queue: asyncio.Queue[JobEvent]) -> None:
        subs = self._subscribers.get(job_id)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subscribers[job_id]


class AlertEvents:
    """Thread-safe publish of recorded alerts to WatchAlerts streams on one loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._subscribers: set[asyncio.Queue[Alert]] = set()

    def publish(self, alerts: list[Alert]) -> None:
        if alerts:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._dispatch, list(alerts))

    def _dispatch(self, alerts: list[Alert]) -> None:
        for queue in self._subscribers:
            for alert in alerts:
                queue.put_nowait(alert)

    def subscribe(self) -> asyncio.Queue[Alert]:
        queue: asyncio.Queue[Alert] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Alert]) -> None:
        self._subscribers.discard(queue)
