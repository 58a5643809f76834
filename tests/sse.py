"""A small server-sent events reader for tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class Event:
    event: str
    data: Any
    id: str | None = None


def read_events(resp: requests.Response, comments: list[str] | None = None) -> Iterator[Event]:
    """Parses an event stream; comment lines (keep-alives) go to `comments`."""
    event, data, event_id = "message", [], None
    for raw in resp.iter_lines(decode_unicode=True, chunk_size=1):
        line = raw if raw is not None else ""
        if line.startswith(":"):
            if comments is not None:
                comments.append(line)
            continue
        if line == "":
            if data:
                yield Event(event, json.loads("\n".join(data)), event_id)
            event, data, event_id = "message", [], None
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            event_id = value
