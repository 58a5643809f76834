"""The dispatcher's state of a claimed job, in memory only (the job table is the truth)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerec.compute.domain import Job
from facerec.compute.tasks import FaceCrop


@dataclass
class ActiveJob:
    """A claimed job in memory: its faces and the embeddings that came back so far."""

    job: Job
    faces: tuple[FaceCrop, ...] = ()
    face_ids: tuple[int, ...] = ()  # REEMBED: the gallery faces being embedded again
    vectors: np.ndarray | None = None
    pending: int = 0
    found: int = 0
