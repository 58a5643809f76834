"""Configuration of the compute server and its in-process worker."""

from __future__ import annotations

import ipaddress
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


def cpu_count() -> int:
    """The cores this process may run on (its affinity, where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# In-process worker threads by default: one per core, at most this many (beyond it, the
# threads' Python code would wait on each other for the interpreter lock).
MAX_DEFAULT_WORKERS = 4


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "facerec"


# The settings of every client of the compute server (worker, front end, CLI).
CLIENT_DOCS = {
    "api_key": "API key sent with every call (a worker needs a worker key: facerec keys"
    " create --role worker)",
    "tls_ca": "PEM CA certificates to verify the compute server with; set: connect over TLS"
    " (the system's CAs when it is empty but --tls-cert is given)",
    "tls_cert": "PEM client certificate, for a server that asks for one (mutual TLS)",
    "tls_key": "PEM private key of the client certificate",
}


def is_loopback(host: str) -> bool:
    """Whether `host` (a listen address) is reachable from this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ComputeConfig:
    """Settings of `facerec compute`; each is also a `FACEREC_<NAME>` variable."""

    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    data_dir: Path = field(default_factory=default_data_dir)
    device: str = "cpu"
    precision: str = "auto"
    model: str = "auto"
    allow_untrained: bool = False
    weights_path: Path | None = None
    weights_url: str = VGGFACE2_URL
    weights_sha256: str = VGGFACE2_SHA256
    cache_dir: Path = field(default_factory=default_cache_dir)
    keep_face_crops: bool = True
    min_face_size: int = 40
    max_photo_bytes: int = 20 * 1024 * 1024
    max_photo_pixels: int = 50_000_000
    max_detection_cost: float = 64.0
    max_queued_jobs: int = 1000
    workers: int = 0
    worker_processes: int = 0
    local_worker: bool = True
    max_batch_size: int = 16
    max_queue_delay_ms: int = 10
    torch_threads: int = 0
    worker_nice: int = 10
    max_attempts: int = 3
    max_interruptions: int = 10
    lease_seconds: float = 30.0
    retain_photos: bool = False
    shutdown_grace_seconds: float = 10.0
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: float = 2.0
    webhook_timeout_seconds: float = 10.0
    webhook_allow_networks: str = ""
    require_keys: bool = True
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    insecure: bool = False

    __field_docs__: ClassVar[dict[str, str]] = {
        "grpc_host": "address to listen on (0.0.0.0 for every interface: needs --tls-cert"
        " and keys, or --insecure)",
        "grpc_port": "gRPC port; 0 picks a free one",
        "metrics_host": "address the Prometheus metrics endpoint listens on",
        "metrics_port": "port of the Prometheus endpoint (GET /metrics; with keys required it"
        " needs a metrics or admin key); 0: no endpoint",
        "data_dir": "where the SQLite database, photo spool and index snapshots live",
        "device": "torch device for the models: cpu, cuda or cuda:N",
        "precision": "number format of FaceNet: auto (fp16 in channels-last layout on a GPU,"
        " for its tensor cores; fp32 in ONNX Runtime on a CPU), fp32, or fp16 (in torch; on a"
        " CPU slower than fp32, for checking the GPU's path). Embeddings in fp16 stay within a"
        " cosine of 0.999 of fp32's; SFace always runs in fp32",
        "model": "embedding model: auto (facenet-vggface2 when its weights resolve, else sface),"
        " facenet-vggface2, sface, or facenet-untrained (needs --allow-untrained)",
        "allow_untrained": "allow the seeded untrained embedder, which recognises nobody; with"
        " --model auto it then runs when no FaceNet weights are found (tests only; every"
        " result is marked)",
        "weights_path": "explicit vggface2 weights file (state dict)",
        "weights_url": "where to download the weights when they are not cached",
        "weights_sha256": "SHA-256 that the weights file must have",
        "cache_dir": "where downloaded weights are kept",
        "keep_face_crops": "keep each enrolled face's crops (biometric data, deleted with the"
        " face), so that a new model can re-embed the gallery; --no-keep-face-crops keeps"
        " none, and a model change then needs the faces enrolled again",
        "min_face_size": "smallest face detected, in pixels of the photo as uploaded (12-4096;"
        " a job's min_face_size overrides it). Detection costs about pixels x (12 / this)^2:"
        " 20 finds smaller faces at 4x the cost",
        "max_photo_bytes": "largest upload accepted, in bytes",
        "max_photo_pixels": "largest photo accepted, in pixels (width x height)",
        "max_detection_cost": "most detection work one photo may cost, in megapixels at a"
        " smallest face of 40 px (megapixels x (40 / min_face_size)^2; each costs about"
        " 0.06-0.09 s of one CPU core and 13 MB): 64 takes a 50 MP photo at 40 px, 16 MP at"
        " 20 px, 5.7 MP at 12 px; past it: 413 PHOTO_TOO_COSTLY",
        "max_queued_jobs": "queued jobs beyond which submissions get RESOURCE_EXHAUSTED",
        "workers": "in-process worker threads (tasks the local worker runs at once); 0: one"
        f" per core, at most {MAX_DEFAULT_WORKERS}",
        "worker_processes": "run model work in this many `facerec worker` child processes on"
        " loopback (restarted when they die) instead of in-process threads; 0: threads",
        "local_worker": "run the in-process worker; --no-local-worker leaves all model work to"
        " remote `facerec worker`s (no models are loaded here then)",
        "max_batch_size": "most crops in one EMBED task, from any number of jobs",
        "max_queue_delay_ms": "how long crops may wait for a fuller EMBED batch while a worker"
        " is free and more crops are on their way",
        "torch_threads": "torch (and ONNX Runtime) threads; 0: the cores shared out among the"
        " worker threads, at least 1 each",
        "worker_nice": "CPU niceness of the worker threads (0-19), so that accepting uploads and"
        " answering requests win over model work on a shared host",
        "max_attempts": "processing attempts before a job ends FAILED (attempts cut short by"
        " this server stopping do not count)",
        "max_interruptions": "times a job may be cut short by its compute server stopping before"
        " it ends FAILED with INTERRUPTED_TOO_OFTEN (against crash loops)",
        "lease_seconds": "how long a worker may hold a task without sending anything",
        "retain_photos": "keep photos after their job ends (biometric data: off by default)",
        "shutdown_grace_seconds": "how long SIGTERM waits for running work",
        "webhook_max_attempts": "POSTs of one alert to one webhook before it is marked failed",
        "webhook_backoff_seconds": "wait before the 2nd attempt; doubles each time (with jitter)",
        "webhook_timeout_seconds": "how long a webhook receiver may take to answer",
        "webhook_allow_networks": "comma-separated networks (CIDR) webhooks may reach although"
        " they are loopback, private, link-local or otherwise internal, e.g. 10.0.0.0/8;"
        " empty: public addresses only",
        "require_keys": "check an API key on every call (see `facerec keys`);"
        " --no-require-keys lets anyone who reaches the port do anything (loopback only,"
        " unless --insecure)",
        "tls_cert": "PEM certificate chain of the gRPC server (with --tls-key: TLS)",
        "tls_key": "PEM private key of --tls-cert",
        "tls_client_ca": "PEM CA certificates; clients (workers, front ends) must then present"
        " a certificate signed by one (mutual TLS)",
        "insecure": "allow listening on a non-loopback address without TLS or without keys",
    }

    @property
    def worker_threads(self) -> int:
        """`workers`, with 0 resolved to one per core (at most MAX_DEFAULT_WORKERS)."""
        return self.workers or min(cpu_count(), MAX_DEFAULT_WORKERS)

    @property
    def model_threads(self) -> int:
        """`torch_threads`, with 0 resolved to the cores per worker thread."""
        return self.torch_threads or max(1, cpu_count() // self.worker_threads)

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "facerec.db"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@dataclass(frozen=True)
class WorkerConfig:
    """Settings of `facerec worker`; each is also a `FACEREC_<NAME>` variable."""

    coordinator: str = "127.0.0.1:50051"
    capabilities: str = "detect,embed"
    worker_id: str = ""
    max_tasks: int = 1
    max_batch_size: int = 0
    device: str = "cpu"
    precision: str = "auto"
    torch_threads: int = 0
    model: str = "auto"
    allow_untrained: bool = False
    weights_path: Path | None = None
    weights_url: str = VGGFACE2_URL
    weights_sha256: str = VGGFACE2_SHA256
    cache_dir: Path = field(default_factory=default_cache_dir)
    reconnect_max_seconds: float = 30.0
    shutdown_grace_seconds: float = 30.0
    api_key: str = ""
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    __field_docs__: ClassVar[dict[str, str]] = {
        "coordinator": "HOST:PORT of the compute server that hands out tasks",
        "capabilities": "comma-separated: detect (detect:mtcnn), embed (embed:<model id of the"
        " weights>), or the full names",
        "worker_id": "name in logs and ListWorkers; empty: <host>/<pid>",
        "max_tasks": "tasks run at once (threads; each detect thread has its own MTCNN)",
        "max_batch_size": "most crops per EMBED task; 0 takes the coordinator's",
        "device": "torch device for the models: cpu, cuda or cuda:N",
        "precision": ComputeConfig.__field_docs__["precision"],
        "torch_threads": "torch intra-op threads; 0 leaves torch's default",
        "model": ComputeConfig.__field_docs__["model"] + "; embed:<model id> in"
        " --capabilities picks it too",
        "allow_untrained": ComputeConfig.__field_docs__["allow_untrained"],
        "weights_path": ComputeConfig.__field_docs__["weights_path"],
        "weights_url": ComputeConfig.__field_docs__["weights_url"],
        "weights_sha256": ComputeConfig.__field_docs__["weights_sha256"],
        "cache_dir": ComputeConfig.__field_docs__["cache_dir"],
        "reconnect_max_seconds": "longest wait between reconnection attempts (backoff doubles"
        " from 0.5 s, with jitter)",
        "shutdown_grace_seconds": "how long SIGTERM waits for the tasks in hand to finish"
        " (no new ones come meanwhile); a second signal stops at once",
        **CLIENT_DOCS,
    }
