"""Soak: N photos through the front end while the compute server, the worker and the front end
are killed with SIGKILL at random, then restarted; nothing may be lost or done twice.

Each photo is posted with its own `Idempotency-Key` and posted again (same key) until it is
accepted, as a careful client does. At the end: how many were accepted, succeeded, failed (by
reason), lost (a key whose job cannot be found) and duplicated (more jobs than keys), and
SQLite's `integrity_check` of the database the kills left behind. Not part of CI.

    .venv/bin/python benchmarks/soak.py [--jobs 200] [--kill-every 4] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facerec.compute.cli import client  # noqa: E402
from facerec.v1 import recognition_service_pb2 as rpb  # noqa: E402
from tests.conftest import FACES, ComputeProcess, ServeProcess, WorkerProcess, free_port  # noqa: E402

PHOTOS = ["obama.jpg", "obama2.jpg", "biden.jpg", "multiface.jpg", "kate_siegel.jpg"]
TERMINAL = {"succeeded", "failed", "cancelled"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--kill-every", type=float, default=4.0, help="mean seconds between kills")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        compute = ComputeProcess(work / "data", "--grpc-port", str(port), "--no-local-worker")
        compute.start()
        worker = WorkerProcess.python(work, compute, "soak-worker")
        worker.start()
        front = ServeProcess(
            work / "front",
            "--grpc-target",
            compute.target,
            command="frontend",
            key=compute.key,
        )
        front.start()
        headers = {"Authorization": f"Bearer {compute.key}"}
        kills: Counter = Counter()
        stop = threading.Event()

        def killer() -> None:
            while not stop.wait(rnd.expovariate(1 / args.kill_every)):
                victim = rnd.choice(["compute", "worker", "frontend"])
                kills[victim] += 1
                if victim == "compute":
                    compute.kill()
                    compute.proc.wait()
                    compute.start()
                elif victim == "worker":
                    worker.kill()
                    worker.proc.wait()
                    worker.launch()
                else:
                    front.kill()
                    front.start()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        accepted: dict[str, str] = {}
        retries = 0
        started = time.monotonic()
        for n in range(args.jobs):
            key = f"soak-{args.seed}-{n}"
            data = (FACES / PHOTOS[n % len(PHOTOS)]).read_bytes()
            while key not in accepted:
                try:
                    r = requests.post(
                        f"{front.url}/api/v1/jobs",
                        files={"image": ("p.jpg", data, "image/jpeg")},
                        headers={**headers, "Idempotency-Key": key},
                        timeout=60,
                    )
                    if r.status_code == 202:
                        accepted[key] = r.json()["id"]
                        continue
                except requests.RequestException:
                    pass
                retries += 1
                time.sleep(0.2)
        submitted = time.monotonic() - started
        states: dict[str, str] = {}
        reasons: Counter = Counter()
        deadline = time.monotonic() + 600
        with client.connect(compute.target, compute.key) as api:
            while len(states) < len(accepted) and time.monotonic() < deadline:
                for job_id in set(accepted.values()) - set(states):
                    try:
                        job = api.recognition.GetJob(rpb.GetJobRequest(job_id=job_id), timeout=10)
                    except Exception:
                        continue
                    state = job.job.state
                    name = {3: "succeeded", 4: "failed", 5: "cancelled"}.get(state)
                    if name:
                        states[job_id] = name
                        if name == "failed":
                            reasons[job.job.error.code] += 1
                time.sleep(0.5)
        ended = time.monotonic() - started
        stop.set()  # the kills go on until every job has ended
        thread.join()
        worker.kill()
        front.kill()
        compute.kill()
        db = sqlite3.connect(compute.data_dir / "facerec.db")
        (integrity,) = db.execute("PRAGMA integrity_check").fetchone()
        stored = db.execute("SELECT COUNT(*) FROM jobs WHERE request_id LIKE '%soak-%'").fetchone()[
            0
        ]
        unknown_keys = db.execute(
            "SELECT COUNT(*) FROM jobs WHERE request_id NOT LIKE '%soak-%' OR request_id IS NULL"
        ).fetchone()[0]
    counts = Counter(states.values())
    lost = len(accepted) - len(states)
    print(f"{args.jobs} photos, kills: {dict(kills)}, {retries} re-posts")
    print(f"submitted in {submitted:.0f} s, all ended after {ended:.0f} s")
    print(f"accepted   {len(accepted)}")
    print(f"succeeded  {counts['succeeded']}")
    print(f"failed     {counts['failed']} {dict(reasons) if reasons else ''}")
    print(f"lost       {lost}")
    print(f"duplicated {stored - len(set(accepted.values())) + unknown_keys}")
    print(f"integrity_check: {integrity}")
    return 0 if lost == 0 and counts["failed"] == 0 and integrity == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
