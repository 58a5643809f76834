"""Limits on gallery values: the same for every store implementation."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from facerec.compute.errors import InvalidArgument

COLLECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_DESCRIPTION = 1000
MAX_IDENTITY_NAME = 200
MAX_WEBHOOKS = 10
MAX_URL = 2000
SECRET_LENGTH = (16, 200)
# GalleryStore.update_collection's "leave the alert threshold as it is".
UNCHANGED = object()


def validate_webhook(url: str, secret: str) -> None:
    """InvalidArgument unless `url` is an http(s) URL with a host and `secret` fits."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > MAX_URL:
        raise InvalidArgument(
            f"webhook URL {url!r} is invalid: use an http:// or https:// URL with a host,"
            f" at most {MAX_URL} characters"
        )
    if not SECRET_LENGTH[0] <= len(secret) <= SECRET_LENGTH[1]:
        raise InvalidArgument(
            f"webhook secret must be {SECRET_LENGTH[0]}-{SECRET_LENGTH[1]} characters"
        )


def validate_collection_name(name: str) -> str:
    """`name` when it is a valid collection name, else InvalidArgument."""
    if not COLLECTION_NAME.match(name):
        raise InvalidArgument(
            f"collection name {name!r} is invalid: use 1-64 characters of a-z, 0-9, '_' and '-',"
            " starting with a letter or digit"
        )
    return name
