"""Prometheus text-format metrics of the front end, kept in memory."""

from __future__ import annotations

import threading
from collections import defaultdict


class Metrics:
    """Counters and gauges; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.duration_sum: dict[str, float] = defaultdict(float)
        self.duration_count: dict[str, int] = defaultdict(int)
        self.jobs_submitted = 0
        self.event_streams = 0

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, endpoint, status)] += 1
            self.duration_sum[endpoint] += seconds
            self.duration_count[endpoint] += 1

    def add_stream(self, delta: int) -> int:
        with self._lock:
            self.event_streams += delta
            return self.event_streams

    def job_submitted(self) -> None:
        with self._lock:
            self.jobs_submitted += 1

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP facerec_http_requests_total HTTP requests answered.",
                "# TYPE facerec_http_requests_total counter",
            ]
            for (method, endpoint, status), n in sorted(self.requests.items()):
                lines.append(
                    f'facerec_http_requests_total{{method="{method}",endpoint="{endpoint}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP facerec_http_request_seconds Time spent answering HTTP requests.",
                "# TYPE facerec_http_request_seconds summary",
            ]
            for endpoint in sorted(self.duration_count):
                lines.append(
                    f'facerec_http_request_seconds_sum{{endpoint="{endpoint}"}} '
                    f"{self.duration_sum[endpoint]:.6f}"
                )
                lines.append(
                    f'facerec_http_request_seconds_count{{endpoint="{endpoint}"}} '
                    f"{self.duration_count[endpoint]}"
                )
            lines += [
                "# HELP facerec_jobs_submitted_total Jobs accepted through the front end.",
                "# TYPE facerec_jobs_submitted_total counter",
                f"facerec_jobs_submitted_total {self.jobs_submitted}",
                "# HELP facerec_event_streams Open server-sent event streams.",
                "# TYPE facerec_event_streams gauge",
                f"facerec_event_streams {self.event_streams}",
            ]
        return "\n".join(lines) + "\n"
