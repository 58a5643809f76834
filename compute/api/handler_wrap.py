"""Wrapping a gRPC method handler, whichever of the four kinds it is, for interceptors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

Unary = Callable[[Any, Any], Awaitable[Any]]
Streaming = Callable[[Any, Any], AsyncIterator[Any]]


def wrap_handler(
    handler: grpc.RpcMethodHandler,
    around_unary: Callable[[Unary], Unary],
    around_stream: Callable[[Streaming], Streaming],
) -> grpc.RpcMethodHandler:
    """The handler with its behaviour replaced by `around_unary(behaviour)` for methods that
    answer once (unary or client-streaming) or `around_stream(behaviour)` for methods that
    answer with a stream; the (de)serializers stay."""
    kwargs = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(around_unary(handler.unary_unary), **kwargs)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(around_unary(handler.stream_unary), **kwargs)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(around_stream(handler.unary_stream), **kwargs)
    return grpc.stream_stream_rpc_method_handler(around_stream(handler.stream_stream), **kwargs)
