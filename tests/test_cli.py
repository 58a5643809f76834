"""The CLI over the gRPC API: enroll a folder, recognise photos, watch a job."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ComputeProcess
from tests.helpers import unique


def facerec(*args: str, target: str, key: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "facerec.compute.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FACEREC_TARGET": target, "FACEREC_API_KEY": key},
    )


def test_enroll_recognize_and_watch(compute: ComputeProcess, faces: Path, tmp_path: Path) -> None:
    people = tmp_path / "people"
    for person, photo in [("Barack Obama", "obama.jpg"), ("Joe Biden", "biden.jpg")]:
        (people / person).mkdir(parents=True)
        shutil.copy(faces / photo, people / person / photo)
    (people / "empty-folder").mkdir()
    collection = unique()

    enrolled = facerec(
        "enroll", str(people), "--collection", collection, target=compute.target, key=compute.key
    )
    assert enrolled.returncode == 0, enrolled.stderr
    assert f"enrolled 2 of 2 photos of 2 people into '{collection}'" in enrolled.stdout
    assert "enrolling" in enrolled.stderr  # the progress bar

    rec = facerec(
        "recognize",
        str(faces / "obama.jpg"),
        "--collection",
        collection,
        "--min-similarity",
        "0.99",
        target=compute.target,
        key=compute.key,
    )
    assert rec.returncode == 0, rec.stderr
    assert "obama.jpg: succeeded, 1 face(s)" in rec.stdout
    assert "UNTRAINED MODEL" in rec.stdout
    assert re.search(r"Barack Obama \(.+\) similarity=1\.000", rec.stdout)
    assert "Joe Biden" not in rec.stdout

    listed = [line for line in compute.log().splitlines() if "queued" in line]
    job_id = re.search(r"job (job_\w+) queued", listed[-1]).group(1)
    watched = facerec("jobs", "watch", job_id, target=compute.target, key=compute.key)
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.splitlines()[0].startswith("snapshot")
    assert "succeeded" in watched.stdout


def test_cli_errors_are_clear(compute: ComputeProcess, tmp_path: Path) -> None:
    missing = facerec("jobs", "watch", "job_missing", target=compute.target, key=compute.key)
    assert missing.returncode == 1
    assert "NOT_FOUND" in missing.stderr and "job_missing" in missing.stderr
    not_dir = facerec("enroll", str(tmp_path / "nope"), target=compute.target, key=compute.key)
    assert not_dir.returncode == 2 and "not a directory" in not_dir.stderr
    text = tmp_path / "note.jpg"
    text.write_text("hello")
    bad = facerec("recognize", str(text), target=compute.target, key=compute.key)
    assert bad.returncode == 1 and "INVALID_ARGUMENT" in bad.stderr


def test_help_names_each_default(tmp_path: Path) -> None:
    """Defaults computed at start-up (the data and cache directories) are shown as paths."""
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
        "COLUMNS": "1000",  # no wrapping inside the paths
    }
    shown = subprocess.run(
        [sys.executable, "-m", "facerec.compute.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in env.items() if k != "XDG_CACHE_HOME"},
    ).stdout
    flat = " ".join(shown.split())
    assert f"default: {tmp_path / 'data' / 'facerec'}]" in flat
    assert f"default: {tmp_path / '.cache' / 'facerec'}]" in flat
    assert "MISSING" not in flat


def test_the_installed_command_runs() -> None:
    """The `facerec` console script of the README (its entry point is the CLI's main)."""
    script = Path(sys.executable).with_name("facerec")
    proc = subprocess.run([str(script), "model", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "--target" in proc.stdout
