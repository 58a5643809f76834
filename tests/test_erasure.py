"""Deleting a person leaves no copy of her anywhere in the data directory: not her name,
not her id, not her embedding or crops, in the database, its WAL, the index snapshots or
the spool; her name in old results and alerts becomes the erased marker."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from facerec.compute.domain import ERASED_ID, ERASED_NAME
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import recognition_service_pb2 as rpb
from tests.conftest import ChildProcess, ComputeProcess
from tests.helpers import connected, enroll_person, recognize, unique
from tests.webhook_receiver import Receiver

NAME = "Quentin Xylophonic-Zabriskie"


def _traces(data_dir: Path, needles: dict[str, bytes]) -> list[str]:
    """'<what> in <file>' for every needle found in any file under `data_dir`."""
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{what} in {path.name}" for what, needle in needles.items() if needle in data]
    return found


def _biometrics(db: Path, identity_id: str) -> dict[str, bytes]:
    """Slices of the person's stored embedding and crops (a page may split a long value,
    so several short slices rather than the whole)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (face_id, embedding) = conn.execute(
            "SELECT id, embedding FROM faces WHERE identity_id = ?", (identity_id,)
        ).fetchone()
        crops = [
            r[0] for r in conn.execute("SELECT png FROM face_crops WHERE face_id = ?", (face_id,))
        ]
    assert len(embedding) >= 512 and crops
    needles = {f"embedding[{i}:]": embedding[i : i + 48] for i in range(0, len(embedding), 256)}
    for n, png in enumerate(crops):
        needles |= {f"crop {n}[{i}:]": png[i : i + 48] for i in range(64, len(png) - 48, 997)}
    return needles


def test_deleting_a_person_erases_every_copy(
    tmp_path: Path, faces: Path, workers: list[ChildProcess]
) -> None:
    server = ComputeProcess(tmp_path / "data")
    workers.append(server.start())
    receiver = Receiver().start()
    try:
        with connected(server) as api:
            watch = unique("w")
            api.gallery.CreateCollection(
                gpb.CreateCollectionRequest(
                    name=watch,
                    alert_on_match=True,
                    alert_threshold=0.95,
                    webhooks=[gpb.WebhookSpec(url=receiver.url, secret="s" * 16)],
                ),
                timeout=10,
            )
            identity = enroll_person(api, watch, NAME, faces / "obama.jpg")
            job = recognize(api, faces / "obama.jpg", collection=watch)
            assert job.faces[0].matches[0].name == NAME
            deadline = time.monotonic() + 30
            while not receiver.requests:
                assert time.monotonic() < deadline, "the webhook never arrived"
                time.sleep(0.1)
            needles = {"name": NAME.encode(), "identity id": identity.encode()}
            needles |= _biometrics(server.data_dir / "facerec.db", identity)
            assert _traces(server.data_dir, needles)  # the check sees them while she is enrolled

            api.gallery.DeleteIdentity(gpb.DeleteIdentityRequest(identity_id=identity), timeout=30)

            assert _traces(server.data_dir, needles) == []
            match = api.recognition.GetJob(rpb.GetJobRequest(job_id=job.id)).job.faces[0].matches[0]
            assert (match.identity_id, match.name) == (ERASED_ID, ERASED_NAME)
            (alert,) = api.recognition.ListAlerts(
                rpb.ListAlertsRequest(collection=watch), timeout=10
            ).alerts
            assert (alert.identity_id, alert.name) == (ERASED_ID, ERASED_NAME)
            # Deleting the collection later leaves nothing either, and the server still serves.
            api.gallery.DeleteCollection(gpb.DeleteCollectionRequest(name=watch), timeout=30)
            assert _traces(server.data_dir, needles) == []
            assert recognize(api, faces / "obama2.jpg").state == 3
    finally:
        receiver.stop()
