"""An HTTP client for the tests that sends each front end's admin key, like a logged-in
user; `requests` itself stays the anonymous client."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

# Front-end origin -> the API key to send there (filled as the servers start).
KEYS: dict[str, str] = {}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class AuthedHttp:
    """`requests`' verbs with `Authorization: Bearer <the server's key>` added."""

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        key = KEYS.get(_origin(url))
        if key and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {key}"
        kwargs.setdefault("timeout", 60)
        return requests.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", url, **kwargs)


http = AuthedHttp()
