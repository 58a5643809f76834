"""FaceNet's number format: fp16 and channels-last on a GPU, checked here on the CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from facerec.compute.cli import client
from facerec.compute.models import registry
from facerec.compute.models.catalog import SFACE
from facerec.compute.models.embedder import Embedder, resolve_precision
from facerec.v1 import job_pb2
from tests.conftest import ComputeProcess
from tests.helpers import (
    aligned_pixels,
    enroll_person,
    new_collection,
    recognize,
    wait_for_workers,
)


def test_auto_is_fp16_on_a_gpu_and_fp32_on_the_cpu() -> None:
    assert resolve_precision("auto", torch.device("cuda")) == torch.float16
    assert resolve_precision("auto", torch.device("cpu")) == torch.float32
    assert resolve_precision("fp32", torch.device("cuda")) == torch.float32
    assert resolve_precision("fp16", torch.device("cpu")) == torch.float16
    with pytest.raises(ValueError, match="precision 'fp8' is not supported; use auto, fp32"):
        resolve_precision("fp8", torch.device("cpu"))


def test_fp16_runs_channels_last_with_fp32_s_embeddings(faces: Path) -> None:
    pixels = aligned_pixels(faces)
    half = Embedder(None, "cpu", precision="fp16")
    assert half.runtime == "torch fp16"
    conv = half.model.conv2d_1a.conv.weight
    assert conv.dtype == torch.float16
    assert conv.is_contiguous(memory_format=torch.channels_last)
    full = Embedder(None, "cpu")  # ONNX Runtime, fp32
    got, want = half.embed_crops(pixels), full.embed_crops(pixels)
    assert got.dtype == np.float32 and got.shape == want.shape == (len(pixels), 512)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-3)
    assert (got * want).sum(axis=1).min() >= 0.999  # 0.9997-0.9999 on these faces
    # Different faces stay as far apart as in fp32.
    assert np.allclose(got @ got.T, want @ want.T, atol=2e-3)


def test_fp16_is_refused_where_it_cannot_run() -> None:
    with pytest.raises(ValueError, match="fp16 in torch only"):
        Embedder(None, "cpu", runtime="onnxruntime", precision="fp16")
    with pytest.raises(ValueError, match="sface runs in fp32"):
        registry.load(registry.Choice(SFACE, None), "cpu", precision="fp16")


def test_worker_processes_run_the_precision_asked_for(
    fresh_compute: ComputeProcess, faces: Path
) -> None:
    fresh_compute.extra = ("--worker-processes", "1", "--torch-threads", "1", "--precision", "fp16")
    fresh_compute.start()
    with client.connect(fresh_compute.target, fresh_compute.key) as api:
        (worker,) = wait_for_workers(api, 1)
        assert "embedder on torch fp16" in worker.runtime
        collection = new_collection(api)
        obama = enroll_person(api, collection, "Obama", faces / "obama.jpg")
        job = recognize(api, faces / "obama.jpg", collection=collection)
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED, job.error
    (face,) = job.faces
    assert face.matches[0].identity_id == obama  # its own photo: the same fp16 embedding
    assert face.matches[0].similarity >= 0.999


@pytest.mark.parametrize("command", ["compute", "worker"])
def test_an_unknown_precision_stops_the_start(command: str, tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path)] if command == "compute" else []
    done = subprocess.run(
        [sys.executable, "-m", "facerec.compute.cli", command, *args, "--precision", "half"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "precision 'half' is not supported; use auto, fp32 or fp16" in done.stderr
