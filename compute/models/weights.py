"""Finding the FaceNet vggface2 weights: explicit path, cache, verified download."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Protocol

from facerec.compute.errors import WeightsError, WeightsUnavailable

log = logging.getLogger(__name__)

WEIGHTS_FILE = "20180402-114759-vggface2.pt"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected: str, what: str) -> None:
    actual = sha256_of(path)
    if actual != expected.lower():
        raise WeightsError(
            f"{what} {path} has SHA-256 {actual}, expected {expected}; the file is corrupt or"
            " not the vggface2 weights (set FACEREC_WEIGHTS_SHA256 only for weights you trust)"
        )


def download(url: str, dest: Path, expected_sha256: str, timeout: float = 60.0) -> Path:
    """Downloads to a temp file beside `dest`, verifies the checksum, then renames it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != expected_sha256.lower():
            raise WeightsError(
                f"downloaded weights from {url} have SHA-256 {digest.hexdigest()}, expected"
                f" {expected_sha256}; refusing to use them"
            )
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)


def resolve(
    weights_path: Path | None,
    cache_dir: Path,
    url: str,
    expected_sha256: str,
    allow_untrained: bool,
) -> Path | None:
    """The verified weights file to load, or None to run untrained (only when allowed).

    Order: explicit path, then the cache, then a download (when `url` is set), then
    untrained when allowed, else a WeightsError saying how to provide the weights.
    """
    if weights_path is not None:
        if not weights_path.is_file():
            raise WeightsError(f"weights file {weights_path} (FACEREC_WEIGHTS_PATH) does not exist")
        _verify(weights_path, expected_sha256, "weights file")
        return weights_path
    cached = cache_dir / WEIGHTS_FILE
    if cached.is_file():
        _verify(cached, expected_sha256, "cached weights")
        return cached
    problem = "no download URL is configured"
    if url:
        try:
            log.info("downloading embedder weights from %s", url)
            return download(url, cached, expected_sha256)
        except WeightsError:
            raise
        except OSError as exc:
            problem = f"downloading {url} failed: {exc}"
    if allow_untrained:
        log.warning("no embedder weights (%s); running UNTRAINED: matches are meaningless", problem)
        return None
    raise WeightsUnavailable(
        f"the FaceNet vggface2 weights are not available ({problem}). Put {WEIGHTS_FILE}"
        f" in {cache_dir}, or pass --weights-path / FACEREC_WEIGHTS_PATH, or serve --model"
        " sface, which needs no download"
    )


class WeightSettings(Protocol):
    """The weight fields shared by the compute and worker configs."""

    weights_path: Path | None
    cache_dir: Path
    weights_url: str
    weights_sha256: str
    allow_untrained: bool
