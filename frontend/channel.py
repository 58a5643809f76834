"""The front end's channel to compute: TLS where configured, and each call made with the
credential of the HTTP request it serves (the front end holds no key of its own)."""

from __future__ import annotations

import collections
import contextvars
from pathlib import Path
from typing import Any

import grpc

from facerec.frontend.config import FrontendConfig

# The API key or session key of the request being served ('' when it carried none).
credential: contextvars.ContextVar[str] = contextvars.ContextVar("credential", default="")


class _Details(
    collections.namedtuple(
        "_Details",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


class ForwardingInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Sends the current request's credential as `authorization: Bearer …`."""

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        token = credential.get()
        if not token:
            return d
        return _Details(
            d.method,
            d.timeout,
            [*(d.metadata or ()), ("authorization", f"Bearer {token}")],
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


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OSError(f"cannot read {path}: {exc.strerror or exc}") from None


def open_channel(cfg: FrontendConfig, options: list[tuple[str, Any]]) -> grpc.Channel:
    target = cfg.grpc_target
    if (cfg.tls_ca is not None or cfg.tls_cert is not None) and not target.startswith("unix:"):
        creds = grpc.ssl_channel_credentials(
            root_certificates=_read(cfg.tls_ca),
            private_key=_read(cfg.tls_key),
            certificate_chain=_read(cfg.tls_cert),
        )
        channel = grpc.secure_channel(target, creds, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    return grpc.intercept_channel(channel, ForwardingInterceptor())
