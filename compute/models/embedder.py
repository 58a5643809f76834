"""Face embeddings with facenet-pytorch's InceptionResnetV1 (512-d, L2-normalised)."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from facenet_pytorch import InceptionResnetV1

from facerec.compute.errors import WeightsError
from facerec.compute.models.catalog import FACENET, UNTRAINED
from facerec.compute.tasks import standardise

log = logging.getLogger(__name__)

MODEL_ID = FACENET.id
UNTRAINED_MODEL_ID = UNTRAINED.id
UNTRAINED_SEED = 20180402
EMBEDDING_DIM = FACENET.dim
_VGGFACE2_CLASSES = 8631


def check_device(device: str) -> torch.device:
    """The torch device named by config, or a WeightsError-free ValueError saying why not."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available here")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r} is not supported; use cpu, cuda or cuda:N")
    return dev


PRECISIONS = ("auto", "fp32", "fp16")


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """The number format FaceNet runs in: `auto` is fp16 on a GPU (its tensor cores), fp32
    elsewhere; ValueError for anything but auto, fp32 or fp16."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not supported; use auto, fp32 or fp16")
    if precision == "fp16" or (precision == "auto" and device.type == "cuda"):
        return torch.float16
    return torch.float32


def _calibrate(model: torch.nn.Module) -> None:
    """Sets batch-norm statistics of an untrained network from seeded smooth noise.

    With default statistics every face embeds to nearly the same vector; calibrated,
    the network is deterministic and tells different photos apart (not people).
    """
    model.eval()  # dropout stays off: calibration must be deterministic
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a plain average over the calibration batches
            module.train()
    gen = torch.Generator().manual_seed(UNTRAINED_SEED)
    with torch.no_grad():
        for _ in range(4):
            coarse = torch.rand(16, 3, 10, 10, generator=gen) * 2 - 1
            model(torch.nn.functional.interpolate(coarse, size=160, mode="bilinear"))
    model.eval()


ONNX_OPSET = 17
ONNX_INPUT = "crops"
ONNX_OUTPUT = "embeddings"


def onnx_graph(model: torch.nn.Module) -> bytes:
    """The network as an ONNX file in memory: input `crops` float32 (batch, 3, 160, 160),
    standardised; output `embeddings` float32 (batch, 512), L2-normalised."""
    graph = io.BytesIO()
    # The TorchScript exporter is deprecated in favour of one that needs onnxscript; it is
    # the one that exports this network faithfully today (tests compare the embeddings).
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model.to("cpu").eval(),
            (torch.zeros(1, 3, 160, 160),),
            graph,
            input_names=[ONNX_INPUT],
            output_names=[ONNX_OUTPUT],
            dynamic_axes={ONNX_INPUT: {0: "batch"}, ONNX_OUTPUT: {0: "batch"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    return graph.getvalue()


def _onnx_session(model: torch.nn.Module, threads: int):  # -> onnxruntime.InferenceSession
    """The network loaded in ONNX Runtime (CPU)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(onnx_graph(model), options, providers=["CPUExecutionProvider"])


class Embedder:
    """InceptionResnetV1 with vggface2 weights, or seeded untrained weights when allowed.

    On the CPU it runs in ONNX Runtime (the network exported in memory at load, about 1 s),
    1.7x (batch 16) to 3x (batch 1) faster than torch on the development machine, with the
    same embeddings; on a GPU, in torch, in fp16 and channels-last layout unless `precision`
    says fp32 (embeddings within a cosine of 0.999 of fp32). `runtime` forces one; fp16 runs
    in torch (on a CPU that is slower than fp32, and there only to check the GPU's path).
    """

    def __init__(
        self,
        weights: Path | None,
        device: str = "cpu",
        threads: int = 0,
        runtime: str = "auto",
        precision: str = "auto",
    ) -> None:
        self.device = check_device(device)
        self.dtype = resolve_precision(precision, self.device)
        half = self.dtype == torch.float16
        if half and runtime == "onnxruntime":
            raise ValueError("FaceNet runs in fp16 in torch only; use precision fp32 with ONNX")
        self.untrained = weights is None
        self.spec = UNTRAINED if weights is None else FACENET
        self.model_id = self.spec.id
        if weights is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(UNTRAINED_SEED)
                model = InceptionResnetV1(classify=False)
            _calibrate(model)
        else:
            model = InceptionResnetV1(classify=False, num_classes=_VGGFACE2_CLASSES)
            try:
                state = torch.load(weights, map_location="cpu", weights_only=True)
                model.load_state_dict(state)
            except Exception as exc:
                raise WeightsError(
                    f"weights file {weights} is not a vggface2 state dict: {exc}"
                ) from None
        self.model = model.eval()
        onnx = runtime == "onnxruntime" or (
            runtime == "auto" and self.device.type == "cpu" and not half
        )
        self.session = _onnx_session(self.model, threads) if onnx else None
        self.runtime = "onnxruntime" if onnx else f"torch {'fp16' if half else 'fp32'}"
        self.model = self.model.to(self.device)
        if half:
            self.model = self.model.to(dtype=self.dtype, memory_format=torch.channels_last)
        log.info("embedder %s on %s (%s)", self.model_id, self.device, self.runtime)

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """Embeddings (n, 512) float32 of (n, 160, 160, 3) uint8 RGB box crops."""
        if self.session is None:
            return self.embed(torch.from_numpy(standardise(crops)))
        if len(crops) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        (out,) = self.session.run(None, {ONNX_INPUT: standardise(crops)})
        return np.asarray(out, dtype=np.float32)

    def embed(self, crops: torch.Tensor) -> np.ndarray:
        """Embeddings (n, 512) float32 of standardised 160x160 crops."""
        if len(crops) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        with torch.inference_mode():
            x = crops.to(self.device, dtype=self.dtype)
            if self.dtype == torch.float16:
                x = x.contiguous(memory_format=torch.channels_last)
            out = self.model(x)
        return out.float().cpu().numpy()
