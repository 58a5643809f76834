"""JSON forms of domain values as stored in SQLite, and opaque page tokens."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from facerec.compute.domain import Enrollment, Face, ImageInfo, JobSpec, Match
from facerec.compute.errors import InvalidArgument


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def spec_to_json(spec: JobSpec) -> str:
    return dump(asdict(spec))


def spec_from_json(text: str) -> JobSpec:
    fields = json.loads(text)
    fields["face_ids"] = tuple(fields.get("face_ids", ()))
    return JobSpec(**fields)


def image_to_json(image: ImageInfo) -> str:
    return dump(asdict(image))


def image_from_json(text: str) -> ImageInfo:
    return ImageInfo(**json.loads(text))


def faces_to_json(faces: tuple[Face, ...]) -> str:
    return dump([asdict(f) for f in faces])


def faces_from_json(text: str) -> tuple[Face, ...]:
    return tuple(
        Face(
            box=tuple(f["box"]),
            score=f["score"],
            landmarks=tuple(tuple(p) for p in f["landmarks"]),
            matches=tuple(Match(**m) for m in f["matches"]),
        )
        for f in json.loads(text)
    )


def enrollment_to_json(enrollment: Enrollment | None) -> str | None:
    return None if enrollment is None else dump(asdict(enrollment))


def enrollment_from_json(text: str | None) -> Enrollment | None:
    return None if not text else Enrollment(**json.loads(text))


def encode_page_token(*parts: Any) -> str:
    return base64.urlsafe_b64encode(dump(list(parts)).encode()).decode().rstrip("=")


def decode_page_token(token: str, arity: int) -> list[Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(parts, list) or len(parts) != arity:
            raise ValueError
        return parts
    except ValueError:
        raise InvalidArgument("page_token is not a token this server issued") from None


def page_size(requested: int, default: int, maximum: int) -> int:
    """A request's page size: 0 means `default`; more than `maximum` is refused."""
    size = requested or default
    if not 1 <= size <= maximum:
        raise InvalidArgument(f"page_size must be between 1 and {maximum} (got {size})")
    return size
