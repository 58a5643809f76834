"""Model work in worker processes: children of the compute server that a crash costs no job."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from facerec.compute.cli import client
from facerec.v1 import job_pb2
from facerec.v1 import worker_service_pb2 as wpb
from tests.conftest import ComputeProcess
from tests.helpers import child_pids, spec, wait_for_workers


def _children(pid: int) -> list[int]:
    return child_pids(pid, b"worker")


def test_a_killed_worker_process_loses_no_job(fresh_compute: ComputeProcess, faces: Path) -> None:
    fresh_compute.extra = ("--worker-processes", "2", "--torch-threads", "1")
    fresh_compute.start()
    with client.connect(fresh_compute.target, fresh_compute.key) as api:
        workers = wait_for_workers(api, 2)
        assert sorted(w.worker_id for w in workers) == ["process/0", "process/1"]
        assert all(w.peer != "in-process" for w in workers)
        photos = [faces / n for n in ("angelina_jolie.jpg", "shea_whigham.jpg", "obama.jpg")]
        ids = [api.submit(photos[n % 3], spec()).id for n in range(6)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill a child while it holds a task
            busy = api.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=10).workers
            if any(w.tasks_in_flight for w in busy):
                break
            time.sleep(0.05)
        children = _children(fresh_compute.proc.pid)
        assert len(children) == 2, children
        os.kill(children[0], signal.SIGKILL)
        jobs = [api.wait(i) for i in ids]
        assert all(j.state == job_pb2.JOB_STATE_SUCCEEDED for j in jobs), [j.error for j in jobs]
        # The killed one was started again, the dead session dropped.
        again = wait_for_workers(api, 2)
        assert sorted(w.worker_id for w in again) == ["process/0", "process/1"]
        assert {w.session_id for w in again} != {w.session_id for w in workers}
        assert children[0] not in _children(fresh_compute.proc.pid)
        survivors = _children(fresh_compute.proc.pid)
    assert "starting it again" in fresh_compute.log()
    # Its task went back when the child died, not when its lease ran out.
    assert "lease expired" not in fresh_compute.log()
    assert fresh_compute.terminate() == 0
    assert not [pid for pid in survivors if Path(f"/proc/{pid}").exists()]  # stopped with it
