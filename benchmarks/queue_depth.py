"""Does queueing a job stay cheap when the queue is long?

Fills a real SQLite job store with a backlog of queued jobs and times JobStore.create (the
queue-full check included) at each depth, next to the full `COUNT(*)` of queued rows that the
check would otherwise run, measured in the same run on the same database.

    .venv/bin/python benchmarks/queue_depth.py [--depths 0 10000 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facerec.compute.domain import ImageInfo, JobKind, JobSpec, JobState  # noqa: E402
from facerec.compute.store import sqlite  # noqa: E402

IMAGE = ImageInfo(640, 480, "JPEG", 1234, "ab" * 32)


def per_call_ms(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[0, 10_000, 100_000])
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    print(f"{'queued jobs':>12} {'create ms':>10} {'full count ms':>14} {'count / create':>15}")
    with tempfile.TemporaryDirectory() as tmp:
        store = sqlite.open_stores(Path(tmp) / "jobs.db").jobs
        limit = max(args.depths) + args.samples * len(args.depths) + 1
        for depth in args.depths:
            missing = depth - store.count(JobState.QUEUED)
            for _ in range(max(0, missing)):
                store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, limit)
            create = per_call_ms(
                lambda: store.create(JobKind.RECOGNIZE, JobSpec(), IMAGE, limit), args.samples
            )
            count = per_call_ms(
                lambda: (
                    store.db.read()
                    .execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (int(JobState.QUEUED),))
                    .fetchone()
                ),
                args.samples,
            )
            print(f"{depth:12d} {create:10.3f} {count:14.3f} {count / create:15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
