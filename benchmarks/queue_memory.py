"""Memory with a long queue: the compute server's RSS with 1000 photos waiting, against idle.

Starts `facerec compute --no-local-worker` (nothing runs, so every job stays queued), reads
its RSS, submits `--jobs` different photos (the shared photos, each made unique by a JPEG
comment, so the spool keeps every one), and reads the RSS again. Photos wait on disk, not in
memory: the target is at most 200 MB over idle for 1000 queued jobs.

    .venv/bin/python benchmarks/queue_memory.py [--jobs 1000]
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import rss_mib  # noqa: E402
from facerec.compute.cli import client  # noqa: E402
from facerec.v1 import job_pb2  # noqa: E402
from facerec.v1 import recognition_service_pb2 as rpb  # noqa: E402
from tests.conftest import ComputeProcess  # noqa: E402

TARGET_MIB = 200


def unique(jpeg: bytes, n: int) -> bytes:
    """The same JPEG with a comment segment naming `n` right after its start marker."""
    text = f"facerec queue_memory {n}".encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + jpeg[2:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    jpegs = [p.read_bytes() for p in sorted(args.faces.glob("*.jpg"))]

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        server = ComputeProcess(
            data, "--no-local-worker", "--max-queued-jobs", str(args.jobs + 10)
        ).start()
        try:
            with client.connect(server.target, server.key) as api:
                pid = server.proc.pid
                time.sleep(1.0)
                idle = rss_mib(pid)
                start = time.perf_counter()
                for n in range(args.jobs):
                    photo = unique(jpegs[n % len(jpegs)], n)

                    def requests(photo: bytes = photo):
                        yield rpb.SubmitJobRequest(spec=job_pb2.JobSpec())
                        yield rpb.SubmitJobRequest(chunk=photo)

                    api.recognition.SubmitJob(requests(), timeout=30)
                took = time.perf_counter() - start
                queued = api.recognition.ListJobs(
                    rpb.ListJobsRequest(states=[job_pb2.JOB_STATE_QUEUED], page_size=1),
                    timeout=30,
                )
                time.sleep(1.0)
                loaded, peak = rss_mib(pid), rss_mib(pid, "VmHWM")
            spool = sum(f.stat().st_size for f in (data / "spool").rglob("*") if f.is_file())
        finally:
            server.kill()
    print(
        f"{args.jobs} jobs queued in {took:.1f} s ({args.jobs / took:.0f}/s);"
        f" spool {spool / 2**20:.0f} MiB on disk"
    )
    print(f"{'compute RSS':22} {'MiB':>8}")
    print(f"{'idle':22} {idle:8.0f}")
    print(f"{'with the jobs queued':22} {loaded:8.0f}")
    print(f"{'peak':22} {peak:8.0f}")
    delta = loaded - idle
    print(
        f"over idle: {delta:.0f} MiB ({delta / TARGET_MIB:.2f} of the {TARGET_MIB} MiB target);"
        f" first page of queued jobs: {len(queued.jobs)} job(s)"
    )
    return 0 if delta <= TARGET_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
