"""Exporting the embedder to ONNX, so that workers in other runtimes serve the same model."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from facerec.compute.models import sface
from facerec.compute.models.catalog import SFACE
from facerec.compute.models.embedder import EMBEDDING_DIM, Embedder

log = logging.getLogger(__name__)

OPSET = 17
INPUT_NAME = "crops"
OUTPUT_NAME = "embeddings"


def export(embedder: Embedder, path: Path) -> Path:
    """Writes `embedder`'s network as ONNX with its model id in the metadata.

    Input `crops`: float32 (batch, 3, 160, 160), RGB, standardised as (pixel - 127.5) / 128.
    Output `embeddings`: float32 (batch, 512), L2-normalised.
    """
    import onnx  # only this command needs it

    path.parent.mkdir(parents=True, exist_ok=True)
    model = embedder.model.to("cpu").eval()
    dummy = torch.zeros(1, 3, 160, 160)
    with torch.inference_mode():
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    proto = onnx.load(str(path))
    for key, value in {
        "facerec_model_id": embedder.model_id,
        "facerec_embedding_dim": str(EMBEDDING_DIM),
        "facerec_input": "RGB float32 (batch, 3, 160, 160), (pixel - 127.5) / 128",
        "facerec_crop_size": "160",
        "facerec_input_scale": "standardised",
        "facerec_untrained": "true" if embedder.untrained else "false",
    }.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    log.info("exported %s to %s", embedder.model_id, path)
    return path


def export_sface(path: Path, source: Path | None = None) -> Path:
    """Writes the SFace graph, its dequantisation folded (as facerec runs it), with the
    metadata workers in other runtimes read.

    Input `data`: float32 (batch, 3, 112, 112), RGB 0..255, ArcFace-aligned crops.
    Output `fc1`: float32 (batch, 128); L2-normalise it.
    """
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    proto = sface.load_graph(source or sface.locate())
    for key, value in {
        "facerec_embedding_dim": str(SFACE.dim),
        "facerec_input": "RGB float32 (batch, 3, 112, 112), 0..255, ArcFace-aligned",
        "facerec_crop_size": "112",
        "facerec_input_scale": "raw",
        "facerec_untrained": "false",
    }.items():
        proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    log.info("exported %s to %s", SFACE.id, path)
    return path
