"""Erasing people from the job log: their ids and names out of results and enrolments."""

from __future__ import annotations

import dataclasses
import json

from facerec.compute.domain import ERASED_ID, ERASED_NAME, Face
from facerec.compute.store import codec
from facerec.compute.store.sqlite.database import Database


def _redacted_faces(faces: tuple[Face, ...], ids: set[str]) -> tuple[Face, ...]:
    return tuple(
        dataclasses.replace(
            f,
            matches=tuple(
                dataclasses.replace(m, identity_id=ERASED_ID, name=ERASED_NAME, face_id=0)
                if m.identity_id in ids
                else m
                for m in f.matches
            ),
        )
        for f in faces
    )


def redact_jobs(db: Database, identity_ids: set[str]) -> list[str]:
    """Rewrites every job that names one of `identity_ids` (a match in its result, or the
    identity it enrolled into); returns the photo hashes of those enrolment jobs."""
    photos: list[str] = []
    if not identity_ids:
        return photos
    with db.write() as conn:
        for identity_id in sorted(identity_ids):
            # Ids are random, so a text search finds exactly the rows that hold one.
            pattern = f"%{json.dumps(identity_id)}%"
            rows = conn.execute(
                "SELECT id, spec, faces, enrollment, photo_sha256 FROM jobs"
                " WHERE faces LIKE ? OR spec LIKE ? OR enrollment LIKE ?",
                (pattern, pattern, pattern),
            ).fetchall()
            for row in rows:
                faces = _redacted_faces(codec.faces_from_json(row["faces"]), identity_ids)
                spec = codec.spec_from_json(row["spec"])
                enrollment = codec.enrollment_from_json(row["enrollment"])
                if spec.identity_id in identity_ids:
                    spec = dataclasses.replace(spec, identity_id=ERASED_ID)
                    photos.append(row["photo_sha256"])
                if enrollment is not None and enrollment.identity_id in identity_ids:
                    enrollment = dataclasses.replace(enrollment, identity_id=ERASED_ID)
                conn.execute(
                    "UPDATE jobs SET spec = ?, faces = ?, enrollment = ? WHERE id = ?",
                    (
                        codec.spec_to_json(spec),
                        codec.faces_to_json(faces),
                        codec.enrollment_to_json(enrollment),
                        row["id"],
                    ),
                )
    return photos
