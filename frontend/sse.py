"""The text form of one server-sent event."""

from __future__ import annotations

import json
from typing import Any


def sse(event: str, data: Any, event_id: str | None = None) -> str:
    """One event: optional id, its name, and `data` as a single JSON line."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'))}")
    return "\n".join(lines) + "\n\n"
