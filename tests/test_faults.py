"""Every failure names whose fault it was: each error code the code base can give a job is
classified, and the classification is the contract's."""

from __future__ import annotations

import re
from pathlib import Path

from facerec.compute.domain import FAULTS, Fault, JobError
from facerec.v1 import job_pb2

ROOT = Path(__file__).resolve().parents[1]
# The codes of errors that end up as a job's error.
RAISED = re.compile(r'(?:TaskError|JobError)\(\s*"([A-Z_]+)"')


def test_fault_numbers_are_the_contracts() -> None:
    for fault in Fault:
        name = "UNSPECIFIED" if fault is Fault.UNKNOWN else fault.name
        assert job_pb2.JobFault.Value(f"JOB_FAULT_{name}") == fault.value
    assert len(job_pb2.JobFault.keys()) == len(Fault)


def test_every_job_error_code_in_the_source_has_a_fault() -> None:
    codes = {
        code
        for path in (ROOT / "compute").rglob("*.py")
        for code in RAISED.findall(path.read_text())
    }
    codes.discard("ATTEMPTS_EXHAUSTED")  # takes the fault of the last attempt
    assert {"WORKER_LOST", "PHOTO_UNREADABLE", "COORDINATOR_ERROR", "NO_FACE"} <= codes
    assert codes - set(FAULTS) == set(), "classify these in domain.FAULTS"


def test_exhausted_attempts_carry_the_fault_of_the_last_one() -> None:
    lost = JobError("WORKER_LOST", "the worker stopped while processing the photo")
    assert lost.exhausted(3).fault is Fault.WORKER
    spool = JobError("SPOOL_ERROR", "the photo cannot be read: disk full")
    assert spool.exhausted(3).fault is Fault.SERVER
    assert "cut short by the compute server, not by the photo" in spool.exhausted(3).message
    assert JobError("NO_FACE", "no face").fault is Fault.PHOTO
    assert JobError("SOMETHING_NEW", "?").fault is Fault.UNKNOWN
