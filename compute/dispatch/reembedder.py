"""Following a model change: enrolled faces of other models are embedded again, from the
crops kept at enrolment, by REEMBED jobs that go through the durable queue like any job.

The faces table is the truth: a face is either embedded with the served model or not, so
progress needs no state of its own and a restart plans only what is left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from facerec.compute.domain import MAX_PRIORITY, ImageInfo, JobKind, JobSpec
from facerec.compute.models.catalog import ModelSpec
from facerec.compute.store.interfaces import GalleryStore, JobStore

log = logging.getLogger(__name__)

FACES_PER_JOB = 32
# Above every client priority: a gallery is re-embedded before the jobs that search it.
PRIORITY = MAX_PRIORITY + 1
_NO_PHOTO = ImageInfo(0, 0, "", 0, "")
_UNLIMITED = 1 << 62


@dataclass(frozen=True)
class Progress:
    """One collection that holds faces of models other than the served one."""

    collection: str
    from_models: tuple[str, ...]
    faces_total: int
    faces_done: int
    faces_without_crop: int  # of other models, with no crop the served model can use


class Reembedder:
    """Plans REEMBED jobs and reports progress."""

    def __init__(
        self, jobs: JobStore, gallery: GalleryStore, model: ModelSpec, wake: Callable[[], None]
    ) -> None:
        self.jobs = jobs
        self.gallery = gallery
        self.model = model
        self.wake = wake

    def plan(self) -> int:
        """Queues REEMBED jobs for the faces no queued or running one covers; returns how
        many faces they hold."""
        covered = {f for job in self.jobs.active(JobKind.REEMBED) for f in job.spec.face_ids}
        planned = 0
        for collection, ids in self.gallery.to_reembed(self.model.id, self.model.crop).items():
            todo = [i for i in ids if i not in covered]
            for start in range(0, len(todo), FACES_PER_JOB):
                chunk = tuple(todo[start : start + FACES_PER_JOB])
                spec = JobSpec(collection=collection, priority=PRIORITY, face_ids=chunk)
                self.jobs.create(JobKind.REEMBED, spec, _NO_PHOTO, _UNLIMITED)
            if todo:
                log.info(
                    "collection %s: %d faces of other models will be re-embedded for %s",
                    collection,
                    len(todo),
                    self.model.id,
                )
            planned += len(todo)
        if planned:
            self.wake()
        return planned

    def progress(self) -> list[Progress]:
        """The collections not yet wholly embedded with the served model."""
        by_collection: dict[str, list] = {}
        for count in self.gallery.face_counts(self.model.crop):
            by_collection.setdefault(count.collection, []).append(count)
        found = []
        for collection, counts in by_collection.items():
            others = [c for c in counts if c.model_id != self.model.id]
            if not others:
                continue
            found.append(
                Progress(
                    collection,
                    tuple(c.model_id for c in others),
                    sum(c.faces for c in counts),
                    sum(c.faces for c in counts if c.model_id == self.model.id),
                    sum(c.faces - c.with_crop for c in others),
                )
            )
        return found
