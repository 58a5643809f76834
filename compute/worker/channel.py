"""A client channel to a compute server: TLS (mutual where a certificate is given) and the
API key on every call. Used by workers and the command line."""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc


@dataclass(frozen=True)
class ChannelSecurity:
    """How a client proves itself and checks the server."""

    api_key: str = ""
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def tls(self) -> bool:
        return self.tls_ca is not None or self.tls_cert is not None

    @classmethod
    def of(cls, cfg: Any) -> ChannelSecurity:
        """From a config with api_key and tls_* fields."""
        return cls(cfg.api_key, cfg.tls_ca, cfg.tls_cert, cfg.tls_key)


class _Details(
    collections.namedtuple(
        "_Details",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


class BearerInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer <key>` to every call."""

    def __init__(self, api_key: str) -> None:
        self.header = ("authorization", f"Bearer {api_key}")

    def _details(self, d: grpc.ClientCallDetails) -> _Details:
        metadata = [*(d.metadata or ()), self.header]
        return _Details(
            d.method,
            d.timeout,
            metadata,
            d.credentials,
            getattr(d, "wait_for_ready", None),
            getattr(d, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)


def _read(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def open_channel(
    target: str, security: ChannelSecurity, options: Sequence[tuple[str, Any]] = ()
) -> grpc.Channel:
    """A channel to `target` (a Unix socket `unix:PATH` never uses TLS)."""
    if security.tls and not target.startswith("unix:"):
        if (security.tls_cert is None) != (security.tls_key is None):
            raise ValueError("a client certificate needs both --tls-cert and --tls-key")
        creds = grpc.ssl_channel_credentials(
            root_certificates=_read(security.tls_ca, "CA file"),
            private_key=_read(security.tls_key, "private key"),
            certificate_chain=_read(security.tls_cert, "certificate"),
        )
        channel = grpc.secure_channel(target, creds, options=list(options))
    else:
        channel = grpc.insecure_channel(target, options=list(options))
    if security.api_key:
        channel = grpc.intercept_channel(channel, BearerInterceptor(security.api_key.strip()))
    return channel
