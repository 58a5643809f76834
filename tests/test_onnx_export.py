"""`facerec export-onnx`: the ONNX embedder reproduces PyTorch's embeddings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

from facerec.compute.models.embedder import UNTRAINED_MODEL_ID, Embedder
from facerec.compute.models.sface import SFaceEmbedder
from tests.helpers import aligned_crops, aligned_pixels


def test_exported_model_matches_pytorch(onnx_export: tuple[Path, str], faces: Path) -> None:
    out, stdout = onnx_export
    assert f"model {UNTRAINED_MODEL_ID}" in stdout

    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["facerec_model_id"] == UNTRAINED_MODEL_ID
    assert meta["facerec_embedding_dim"] == "512"

    batch = aligned_crops(faces)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (got,) = session.run(["embeddings"], {"crops": batch})
    want = Embedder(None).embed(torch.from_numpy(batch))
    cosine = (got * want).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert got.shape == (len(batch), 512)
    assert cosine.min() >= 0.9999, cosine


def _export(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FACEREC_ALLOW_UNTRAINED"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "facerec.compute.cli",
            "export-onnx",
            str(tmp_path / "m.onnx"),
            "--cache-dir",
            str(tmp_path / "cache"),
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "FACEREC_WEIGHTS_URL": ""},
    )


def test_export_of_facenet_without_weights_says_how_to_get_them(tmp_path: Path) -> None:
    proc = _export(tmp_path, "--model", "facenet-vggface2")
    assert proc.returncode == 2 and "FACEREC_WEIGHTS_PATH" in proc.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_export_without_weights_writes_sface_as_facerec_runs_it(tmp_path: Path) -> None:
    proc = _export(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "model sface" in proc.stdout
    path = tmp_path / "m.onnx"
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["facerec_model_id"] == "sface" and meta["facerec_crop_size"] == "112"
    assert meta["facerec_embedding_dim"] == "128" and meta["facerec_input_scale"] == "raw"
    crops = np.random.default_rng(5).integers(0, 256, (4, 112, 112, 3), dtype=np.uint8)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (raw,) = session.run(None, {"data": crops.transpose(0, 3, 1, 2).astype(np.float32)})
    got = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    want = SFaceEmbedder().embed_crops(crops)
    assert np.allclose(got, want, atol=1e-5)


def test_the_cpu_embedder_runs_in_onnx_runtime_with_torch_s_embeddings(faces: Path) -> None:
    pixels = aligned_pixels(faces)
    fast = Embedder(None, "cpu")
    assert fast.runtime == "onnxruntime"
    slow = Embedder(None, "cpu", runtime="torch")
    assert slow.runtime == "torch fp32"
    got, want = fast.embed_crops(pixels), slow.embed_crops(pixels)
    assert got.shape == want.shape == (len(pixels), 512)
    assert (got * want).sum(axis=1).min() >= 0.9999
