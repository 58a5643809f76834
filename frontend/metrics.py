"""The front end's Prometheus metrics, shared by all its processes.

With more than one front-end process (they share the port, so a scrape reaches any one of
them) every process writes its samples to files in one directory (prometheus_client's
multiprocess mode) and `/metrics` in any of them reports the sum over all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# No `_created` series: they double what is stored and no dashboard reads them.
disable_created_metrics()

_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def share_between_processes() -> Path:
    """Makes this process and the ones it starts (which inherit the environment) write
    their metrics to one fresh directory; call before the first `Metrics()`."""
    path = Path(tempfile.mkdtemp(prefix="facerec-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    values.ValueClass = values.get_value_class()
    return path


def join_shared() -> None:
    """In a process started with the directory set: use it (whatever was imported first)."""
    if os.environ.get(MULTIPROC_ENV):
        values.ValueClass = values.get_value_class()


def end_sharing(path: Path) -> None:
    os.environ.pop(MULTIPROC_ENV, None)
    shutil.rmtree(path, ignore_errors=True)


def process_ended(pid: int) -> None:
    """Drops a finished process's live gauges from the shared directory."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)


class Metrics:
    """The front end's counters, histograms and gauges."""

    def __init__(self) -> None:
        self.shared_dir = os.environ.get(MULTIPROC_ENV) or None
        self.registry = CollectorRegistry()
        reg = self.registry
        self.requests = Counter(
            "facerec_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "endpoint", "status"],
            registry=reg,
        )
        self.seconds = Histogram(
            "facerec_http_request_duration_seconds",
            "Time spent answering HTTP requests (an event stream: until it ends), by route.",
            ["endpoint"],
            buckets=_SECONDS,
            registry=reg,
        )
        self.submitted = Counter(
            "facerec_http_jobs_submitted",
            "Jobs accepted through the front end.",
            registry=reg,
        )
        self.streams = Gauge(
            "facerec_event_streams",
            "Open server-sent event streams.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.slow_clients = Counter(
            "facerec_http_slow_clients_closed",
            "Connections answered 408 for sending their request too slowly.",
            registry=reg,
        )
        self._open_streams = 0
        self._lock = threading.Lock()

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(method, endpoint, str(status)).inc()
        self.seconds.labels(endpoint).observe(seconds)

    def add_stream(self, delta: int) -> int:
        """Changes the open event streams of this process; returns how many it has now."""
        self.streams.inc(delta)
        with self._lock:
            self._open_streams += delta
            return self._open_streams

    def job_submitted(self) -> None:
        self.submitted.inc()

    def render(self) -> bytes:
        """Prometheus text: this process's metrics, or every process's in shared mode."""
        if self.shared_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=self.shared_dir)
        return generate_latest(merged)
