"""The Node.js client example (clients/node) against a real compute server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from facerec.compute.cli.client import Api
from tests.conftest import ROOT, ComputeProcess
from tests.helpers import enroll_person, new_collection

CLIENT = ROOT / "clients" / "node"


def run_node(*args: str, target: str, key: str = "") -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is missing: run the README's setup command"
    assert (CLIENT / "node_modules").is_dir(), "run `make setup` (npm ci in clients/node)"
    return subprocess.run(
        [node, str(CLIENT / "recognize.js"), "--target", target, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FACEREC_API_KEY": key},
    )


def test_node_client_recognises_an_enrolled_face(
    compute: ComputeProcess, api: Api, faces: Path
) -> None:
    collection = new_collection(api)
    enroll_person(api, collection, "Barack Obama", faces / "obama.jpg")
    done = run_node(
        "--collection",
        collection,
        str(faces / "obama.jpg"),
        str(faces / "multiface.jpg"),
        target=compute.target,
        key=compute.key,
    )
    assert done.returncode == 0, done.stderr
    assert "obama.jpg: succeeded, 1 face(s)" in done.stdout
    assert re.search(r"Barack Obama \(.+\) similarity=1\.000", done.stdout)
    assert "multiface.jpg: succeeded, 6 face(s)" in done.stdout
    assert re.search(r"job_\w+ snapshot", done.stderr)  # it watched the job


def test_node_client_reports_grpc_errors(compute: ComputeProcess, tmp_path: Path) -> None:
    note = tmp_path / "note.jpg"
    note.write_text("not a photo")
    done = run_node(str(note), target=compute.target, key=compute.key)
    assert done.returncode == 1
    assert "INVALID_ARGUMENT" in done.stderr and "not a photo" in done.stderr
