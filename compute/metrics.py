"""The compute server's Prometheus metrics, in one registry of this process.

Counters and histograms are updated where things happen (dispatcher, pipeline, webhooks, the
gRPC interceptor); gauges that mirror state (jobs per state, workers connected) are read at
scrape time by `StateCollector`, so they can never drift from the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()

# No `_created` series: they double what is stored and no dashboard reads them.
disable_created_metrics()

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

GRPC_REQUESTS = Counter(
    "facerec_grpc_requests",
    "gRPC calls answered, by method and status code.",
    ["service", "method", "code"],
    registry=REGISTRY,
)
GRPC_SECONDS = Histogram(
    "facerec_grpc_request_duration_seconds",
    "Time from a gRPC call's start to its end (a stream's whole life).",
    ["service", "method"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
JOBS_SUBMITTED = Counter(
    "facerec_jobs_submitted", "Jobs queued, by kind.", ["kind"], registry=REGISTRY
)
JOBS_FINISHED = Counter(
    "facerec_jobs_finished",
    "Jobs that reached a final state, by kind, state and error code (empty when none).",
    ["kind", "state", "reason"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "facerec_job_duration_seconds",
    "Time from a job's submission to its final state, by kind.",
    ["kind"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
STAGE_SECONDS = Histogram(
    "facerec_stage_duration_seconds",
    "Time one stage of a job took: decode, detect, crop and embed as the worker measured them"
    " (embed once per batch), match on the coordinator.",
    ["stage"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
EMBED_BATCH = Histogram(
    "facerec_embed_batch_size",
    "Crops in each EMBED task sent to a worker.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    registry=REGISTRY,
)
ATTEMPTS = Counter(
    "facerec_job_attempts",
    "Job attempts started (a job leased to the pipeline), by kind.",
    ["kind"],
    registry=REGISTRY,
)
TASK_FAILURES = Counter(
    "facerec_task_failures",
    "Tasks that failed, by error code (WORKER_LOST, LEASE_EXPIRED, BAD_RESULT, ...).",
    ["reason"],
    registry=REGISTRY,
)
INTERRUPTIONS = Counter(
    "facerec_job_interruptions",
    "Running jobs found interrupted by a restart of this server (requeued, no attempt spent).",
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "facerec_webhook_deliveries",
    "Webhook delivery attempts, by outcome (delivered, retrying, failed).",
    ["outcome"],
    registry=REGISTRY,
)
WEBHOOK_SECONDS = Histogram(
    "facerec_webhook_delivery_duration_seconds",
    "Time one webhook POST took.",
    buckets=_SECONDS,
    registry=REGISTRY,
)


class StateCollector(Collector):
    """Gauges read at scrape time: jobs per state and connected workers."""

    def __init__(
        self,
        job_counts: Callable[[], dict[str, int]],
        workers: Callable[[], int],
    ) -> None:
        self.job_counts = job_counts
        self.workers = workers

    def collect(self) -> Iterable[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("facerec_jobs", "Jobs in the store, by state.", labels=["state"])
        try:
            for state, n in sorted(self.job_counts().items()):
                jobs.add_metric([state], n)
        except Exception:
            log.exception("counting jobs for a metrics scrape failed")
        yield jobs
        yield GaugeMetricFamily(
            "facerec_workers_connected", "Worker sessions connected now.", value=self.workers()
        )


_installed: list[StateCollector] = []


def install_state(collector: StateCollector) -> None:
    """Registers the scrape-time gauges (a later server in the same process replaces them)."""
    while _installed:
        REGISTRY.unregister(_installed.pop())
    REGISTRY.register(collector)
    _installed.append(collector)
