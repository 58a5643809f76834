"""Exporting the embedder to ONNX, so that workers in other runtimes serve the same model."""

from __future__ import annotations

import logging
from pathlib import Path

from facerec.compute.models import sface
from facerec.compute.models.catalog import SFACE
from facerec.compute.models.embedder import EMBEDDING_DIM, Embedder, onnx_graph

log = logging.getLogger(__name__)


def _save(proto, model_id: str, metadata: dict[str, str], path: Path) -> Path:
    """Writes `proto` (an onnx.ModelProto) to `path` with the metadata workers read."""
    import onnx  # only this command needs it

    for key, value in {"facerec_model_id": model_id, **metadata}.items():
        proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(proto)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(path))
    log.info("exported %s to %s", model_id, path)
    return path


def export(embedder: Embedder, path: Path) -> Path:
    """Writes `embedder`'s network as ONNX with its model id in the metadata.

    Input `crops`: float32 (batch, 3, 160, 160), RGB, standardised as (pixel - 127.5) / 128.
    Output `embeddings`: float32 (batch, 512), L2-normalised.
    """
    import onnx

    proto = onnx.load_model_from_string(onnx_graph(embedder.model))
    metadata = {
        "facerec_embedding_dim": str(EMBEDDING_DIM),
        "facerec_input": "RGB float32 (batch, 3, 160, 160), (pixel - 127.5) / 128",
        "facerec_crop_size": "160",
        "facerec_input_scale": "standardised",
        "facerec_untrained": "true" if embedder.untrained else "false",
    }
    return _save(proto, embedder.model_id, metadata, path)


def export_sface(path: Path, source: Path | None = None) -> Path:
    """Writes the SFace graph, its dequantisation folded (as facerec runs it), with the
    metadata workers in other runtimes read.

    Input `data`: float32 (batch, 3, 112, 112), RGB 0..255, ArcFace-aligned crops.
    Output `fc1`: float32 (batch, 128); L2-normalise it.
    """
    metadata = {
        "facerec_embedding_dim": str(SFACE.dim),
        "facerec_input": "RGB float32 (batch, 3, 112, 112), 0..255, ArcFace-aligned",
        "facerec_crop_size": "112",
        "facerec_input_scale": "raw",
        "facerec_untrained": "false",
    }
    return _save(sface.load_graph(source or sface.locate()), SFACE.id, metadata, path)
