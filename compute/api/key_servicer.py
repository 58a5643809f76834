"""`facerec.v1.KeyService` over the key ring."""

from __future__ import annotations

import asyncio
from typing import Any

from facerec.compute.api.auth import caller
from facerec.compute.api.keyring import MAX_KEY_TTL, KeyRing
from facerec.compute.api.status import unary
from facerec.compute.domain import ApiKey, KeyKind, Role
from facerec.compute.errors import FailedPrecondition, InvalidArgument
from facerec.compute.worker.task_convert import timestamp
from facerec.v1 import key_service_pb2 as pb
from facerec.v1 import key_service_pb2_grpc


def key_to_pb(key: ApiKey) -> pb.ApiKey:
    out = pb.ApiKey(
        id=key.id,
        name=key.name,
        role=int(key.role),
        kind=int(key.kind),
        parent_id=key.parent_id,
        created_at=timestamp(key.created_at),
    )
    if key.expires_at is not None:
        out.expires_at.CopyFrom(timestamp(key.expires_at))
    if key.revoked_at is not None:
        out.revoked_at.CopyFrom(timestamp(key.revoked_at))
    return out


class KeyServicer(key_service_pb2_grpc.KeyServiceServicer):
    def __init__(self, keyring: KeyRing) -> None:
        self.keys = keyring

    @unary
    async def CreateKey(self, request: pb.CreateKeyRequest, context: Any) -> pb.CreateKeyResponse:
        if request.role not in Role._value2member_map_:
            raise InvalidArgument("role must be admin, user, worker or metrics")
        if not 0 <= request.ttl_seconds <= MAX_KEY_TTL:
            raise InvalidArgument(f"ttl_seconds must be 0-{MAX_KEY_TTL}")
        key, secret = await asyncio.to_thread(
            self.keys.issue,
            Role(request.role),
            request.name,
            KeyKind.KEY,
            "",
            request.ttl_seconds or None,
        )
        return pb.CreateKeyResponse(key=key_to_pb(key), secret=secret)

    @unary
    async def ListKeys(self, request: pb.ListKeysRequest, context: Any) -> pb.ListKeysResponse:
        kinds = [KeyKind.KEY, KeyKind.SESSION] if request.include_sessions else [KeyKind.KEY]
        keys = await asyncio.to_thread(self.keys.store.list_keys, kinds, request.include_revoked)
        return pb.ListKeysResponse(keys=[key_to_pb(k) for k in keys])

    @unary
    async def RevokeKey(self, request: pb.RevokeKeyRequest, context: Any) -> pb.RevokeKeyResponse:
        key, sessions = await asyncio.to_thread(self.keys.revoke, request.key_id)
        return pb.RevokeKeyResponse(key=key_to_pb(key), sessions_revoked=sessions)

    @unary
    async def CreateLoginToken(
        self, request: pb.CreateLoginTokenRequest, context: Any
    ) -> pb.CreateLoginTokenResponse:
        if not caller().id:
            raise FailedPrecondition("keys are off on this server: a browser needs no login")
        login, token = await asyncio.to_thread(self.keys.login_token, caller(), request.ttl_seconds)
        return pb.CreateLoginTokenResponse(
            token=token, expires_at=timestamp(login.expires_at or 0.0)
        )

    @unary
    async def RedeemLoginToken(
        self, request: pb.RedeemLoginTokenRequest, context: Any
    ) -> pb.RedeemLoginTokenResponse:
        session, secret = await asyncio.to_thread(
            self.keys.redeem, request.token, request.session_ttl_seconds
        )
        return pb.RedeemLoginTokenResponse(session=key_to_pb(session), secret=secret)

    @unary
    async def GetCaller(self, request: pb.GetCallerRequest, context: Any) -> pb.GetCallerResponse:
        return pb.GetCallerResponse(key=key_to_pb(caller()))
