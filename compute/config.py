"""Configuration of the compute server and its in-process worker."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

VGGFACE2_URL = (
    "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/"
    "20180402-114759-vggface2.pt"
)
VGGFACE2_SHA256 = "281cebca8662831adb987a874bdcb36e73f5b1c6dc5ee5878f305e985625d99b"


def default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "facerec"


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "facerec"


@dataclass(frozen=True)
class ComputeConfig:
    """Settings of `facerec compute`; each is also a `FACEREC_<NAME>` variable."""

    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    data_dir: Path = field(default_factory=default_data_dir)
    device: str = "cpu"
    allow_untrained: bool = False
    weights_path: Path | None = None
    weights_url: str = VGGFACE2_URL
    weights_sha256: str = VGGFACE2_SHA256
    cache_dir: Path = field(default_factory=default_cache_dir)
    max_photo_bytes: int = 20 * 1024 * 1024
    max_photo_pixels: int = 50_000_000
    max_queued_jobs: int = 1000
    workers: int = 1
    torch_threads: int = 0
    worker_nice: int = 10
    max_attempts: int = 3
    lease_seconds: float = 120.0
    retain_photos: bool = False
    shutdown_grace_seconds: float = 10.0
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: float = 2.0
    webhook_timeout_seconds: float = 10.0

    __field_docs__: ClassVar[dict[str, str]] = {
        "grpc_host": "address to listen on (0.0.0.0 for every interface)",
        "grpc_port": "gRPC port; 0 picks a free one",
        "data_dir": "where the SQLite database, photo spool and index snapshots live",
        "device": "torch device for the models: cpu, cuda or cuda:N",
        "allow_untrained": "run a seeded untrained embedder when no weights are available "
        "(tests and offline demos; every result is marked)",
        "weights_path": "explicit vggface2 weights file (state dict)",
        "weights_url": "where to download the weights when they are not cached",
        "weights_sha256": "SHA-256 that the weights file must have",
        "cache_dir": "where downloaded weights are kept",
        "max_photo_bytes": "largest upload accepted, in bytes",
        "max_photo_pixels": "largest photo accepted, in pixels (width x height)",
        "max_queued_jobs": "queued jobs beyond which submissions get RESOURCE_EXHAUSTED",
        "workers": "in-process worker threads",
        "torch_threads": "torch intra-op threads per worker; 0 leaves torch's default",
        "worker_nice": "CPU niceness of the worker threads (0-19), so that accepting uploads and"
        " answering requests win over model work on a shared host",
        "max_attempts": "processing attempts before a job ends FAILED",
        "lease_seconds": "how long a worker may hold a job without a heartbeat",
        "retain_photos": "keep photos after their job ends (biometric data: off by default)",
        "shutdown_grace_seconds": "how long SIGTERM waits for running work",
        "webhook_max_attempts": "POSTs of one alert to one webhook before it is marked failed",
        "webhook_backoff_seconds": "wait before the 2nd attempt; doubles each time (with jitter)",
        "webhook_timeout_seconds": "how long a webhook receiver may take to answer",
    }

    @property
    def db_path(self) -> Path:
        return self.data_dir / "facerec.db"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
