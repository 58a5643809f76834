"""EMBED items from any jobs waiting to be batched, Triton-style, and the batches sent."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_BATCH = 256


@dataclass
class EmbedItem:
    """One face crop of one job attempt, waiting for an EMBED task."""

    job_id: str
    attempt: int
    face: int
    crop: np.ndarray
    queued_at: float


class EmbedBatcher:
    """Not thread-safe: the dispatcher calls it under its lock."""

    def __init__(self, max_batch_size: int, max_queue_delay_ms: int) -> None:
        self.max_batch = max(1, min(max_batch_size, MAX_BATCH))
        self.delay = max_queue_delay_ms / 1000.0
        self.sizes: Counter[int] = Counter()
        self.across_jobs = 0
        self._items: deque[EmbedItem] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, job_id: str, attempt: int, crops: Sequence[np.ndarray]) -> None:
        now = time.monotonic()
        self._items.extend(EmbedItem(job_id, attempt, n, c, now) for n, c in enumerate(crops))

    def drop(self, job_id: str, attempt: int | None = None) -> None:
        """Forgets a job's items (of one attempt, or all)."""
        self._items = deque(
            i
            for i in self._items
            if not (i.job_id == job_id and (attempt is None or i.attempt == attempt))
        )

    def ready(self, more_coming: bool) -> bool:
        """Whether a batch should go now: full, its oldest item waited long enough, or no
        more items are on their way."""
        if not self._items:
            return False
        return len(self._items) >= self.max_batch or self.due_in() <= 0 or not more_coming

    def due_in(self) -> float:
        """Seconds until the oldest item has waited `max_queue_delay_ms` (inf when empty)."""
        if not self._items:
            return float("inf")
        return self._items[0].queued_at + self.delay - time.monotonic()

    def take(self, most: int) -> list[EmbedItem]:
        """The next batch, oldest first, counted in the histogram."""
        items = [self._items.popleft() for _ in range(min(most, self.max_batch, len(self._items)))]
        self.sizes[len(items)] += 1
        if len({i.job_id for i in items}) > 1:
            self.across_jobs += 1
        return items
