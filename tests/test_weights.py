"""The real-weights path: explicit file, cache, verified download, and clear errors; and
which model a server runs when none is named."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from facenet_pytorch import InceptionResnetV1
from PIL import Image

from facerec.compute.config import ComputeConfig
from facerec.compute.errors import WeightsError, WeightsUnavailable
from facerec.compute.models import catalog, registry, sface, weights
from facerec.compute.models.embedder import MODEL_ID, UNTRAINED_MODEL_ID, Embedder


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A state dict with the shape of the vggface2 weights (random values)."""
    path = tmp_path_factory.mktemp("weights") / "written-by-test.pt"
    torch.manual_seed(1)
    torch.save(InceptionResnetV1(classify=False, num_classes=8631).state_dict(), path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def http_file(weights_file: tuple[Path, str]) -> Iterator[str]:
    """Serves the weights file over HTTP on loopback; yields its URL."""
    path, _ = weights_file
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/vggface2.pt"
    server.shutdown()


def test_explicit_weights_file_loads_with_its_model_id(weights_file, tmp_path: Path) -> None:
    path, sha = weights_file
    found = weights.resolve(path, tmp_path / "cache", "", sha, allow_untrained=False)
    assert found == path
    embedder = Embedder(found)
    assert embedder.model_id == MODEL_ID and not embedder.untrained
    state = torch.load(path, weights_only=True)
    assert torch.equal(
        embedder.model.state_dict()["last_linear.weight"], state["last_linear.weight"]
    )
    out = embedder.embed(torch.zeros(2, 3, 160, 160))
    assert out.shape == (2, 512)
    assert torch.allclose(torch.from_numpy(out).norm(dim=1), torch.ones(2), atol=1e-4)


def test_checksum_mismatch_is_refused(weights_file, tmp_path: Path) -> None:
    path, _ = weights_file
    with pytest.raises(WeightsError, match="SHA-256"):
        weights.resolve(path, tmp_path, "", "0" * 64, allow_untrained=True)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="does not exist"):
        weights.resolve(tmp_path / "nope.pt", tmp_path, "", "0" * 64, allow_untrained=True)


def test_download_verifies_then_caches(weights_file, http_file: str, tmp_path: Path) -> None:
    _, sha = weights_file
    cache = tmp_path / "cache"
    found = weights.resolve(None, cache, http_file, sha, allow_untrained=False)
    assert found == cache / weights.WEIGHTS_FILE
    assert weights.sha256_of(found) == sha
    # Second time: from the cache, without the network.
    assert weights.resolve(None, cache, "", sha, allow_untrained=False) == found


def test_download_with_wrong_checksum_is_not_cached(http_file: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(WeightsError, match="refusing"):
        weights.resolve(None, cache, http_file, "f" * 64, allow_untrained=True)
    assert not list(cache.iterdir())


def test_corrupt_cache_is_refused(tmp_path: Path) -> None:
    (tmp_path / weights.WEIGHTS_FILE).write_bytes(b"half a file")
    with pytest.raises(WeightsError, match="cached weights"):
        weights.resolve(None, tmp_path, "", "0" * 64, allow_untrained=False)


def test_no_weights_without_permission_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(WeightsUnavailable, match="--model sface") as info:
        weights.resolve(None, tmp_path, "http://127.0.0.1:9/none", "0" * 64, False)
    assert "FACEREC_WEIGHTS_PATH" in str(info.value)
    assert weights.resolve(None, tmp_path, "", "0" * 64, allow_untrained=True) is None


def test_untrained_embedder_is_seeded_and_marked(faces: Path) -> None:
    a, b = Embedder(None), Embedder(None)
    assert a.model_id == UNTRAINED_MODEL_ID and a.untrained
    aligned = sorted((faces / "aligned").glob("*.png"))[:3]
    x = torch.stack(
        [
            (
                torch.from_numpy(
                    np.asarray(Image.open(p).convert("RGB"), dtype=np.float32)
                ).permute(2, 0, 1)
                - 127.5
            )
            / 128.0
            for p in aligned
        ]
    )
    ea, eb = a.embed(x), b.embed(x)
    assert (ea == eb).all()
    # Calibrated: different faces give clearly different embeddings.
    assert float(ea[0] @ ea[1]) < 0.95 and float(ea[1] @ ea[2]) < 0.95


def test_not_a_state_dict(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    torch.save({"foo": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError, match="not a vggface2 state dict"):
        Embedder(bad)


def _settings(tmp_path: Path, **changes: object) -> ComputeConfig:
    base = ComputeConfig(data_dir=tmp_path / "d", cache_dir=tmp_path / "c", weights_url="")
    return dataclasses.replace(base, **changes)


def test_auto_serves_facenet_when_its_weights_resolve(weights_file, tmp_path: Path) -> None:
    path, sha = weights_file
    choice = registry.choose(_settings(tmp_path, weights_path=path, weights_sha256=sha))
    assert choice.spec is catalog.FACENET and choice.path == path


def test_auto_serves_sface_without_facenet_weights(tmp_path: Path) -> None:
    choice = registry.choose(_settings(tmp_path))
    assert choice.spec is catalog.SFACE and choice.path.name == sface.FILE_NAME
    assert registry.choose(_settings(tmp_path, allow_untrained=True)).spec is catalog.UNTRAINED
    assert registry.choose(_settings(tmp_path, model="sface", allow_untrained=True)).spec is (
        catalog.SFACE
    )


def test_auto_does_not_hide_weights_that_are_wrong(weights_file, tmp_path: Path) -> None:
    """A weights file that is there but fails its checksum is an error, not a fallback."""
    path, _ = weights_file
    with pytest.raises(WeightsError, match="SHA-256"):
        registry.choose(_settings(tmp_path, weights_path=path, weights_sha256="0" * 64))


def test_a_model_asked_for_is_that_model_or_an_error(tmp_path: Path) -> None:
    with pytest.raises(WeightsUnavailable, match="--model sface"):
        registry.choose(_settings(tmp_path, model="facenet-vggface2"))
    with pytest.raises(WeightsError, match="--allow-untrained"):
        registry.choose(_settings(tmp_path, model="facenet-untrained"))
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        registry.choose(_settings(tmp_path, model="vgg"))
