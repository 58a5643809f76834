"""`facerec keys …` and `facerec login-url`: API keys over KeyService."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import grpc

from facerec.compute.cli import client
from facerec.v1 import key_service_pb2 as kpb

ROLES = {"admin": 1, "user": 2, "worker": 3, "metrics": 4}
ROLE_NAMES = {v: k for k, v in ROLES.items()}


def add_commands(
    sub: argparse._SubParsersAction,
    with_target: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
) -> None:
    keys = sub.add_parser("keys", help="create, list and revoke API keys (admin key needed)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = with_target(keys_sub.add_parser("create", help="create a key and print it once"))
    create.add_argument("--role", required=True, choices=sorted(ROLES))
    create.add_argument("--name", required=True, help="who or what uses it")
    create.add_argument("--ttl-days", type=float, default=0, help="expires after (0: never)")
    create.set_defaults(func=run_create)
    listing = with_target(keys_sub.add_parser("list", help="list keys (never their secrets)"))
    listing.add_argument("--all", action="store_true", help="revoked keys and sessions too")
    listing.set_defaults(func=run_list)
    revoke = with_target(
        keys_sub.add_parser("revoke", help="revoke a key and its browser sessions")
    )
    revoke.add_argument("key_id", help="the key's id (or the whole key)")
    revoke.set_defaults(func=run_revoke)

    login = with_target(
        sub.add_parser("login-url", help="print a one-time URL that logs a browser in")
    )
    login.add_argument(
        "--frontend", default="http://127.0.0.1:8080", help="the front end's address"
    )
    login.set_defaults(func=run_login_url)


def _fail(exc: grpc.RpcError) -> int:
    print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
    return 1


def run_create(args: argparse.Namespace) -> int:
    req = kpb.CreateKeyRequest(
        name=args.name, role=ROLES[args.role], ttl_seconds=int(args.ttl_days * 86400)
    )
    with client.connect(args.target, client.security(args)) as api:
        try:
            answer = api.keys.CreateKey(req, timeout=client.DEADLINE)
        except grpc.RpcError as exc:
            return _fail(exc)
    print(answer.secret)
    print(
        f"created {args.role} key {answer.key.id} ({answer.key.name}); it is shown only this once",
        file=sys.stderr,
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    req = kpb.ListKeysRequest(include_revoked=args.all, include_sessions=args.all)
    with client.connect(args.target, client.security(args)) as api:
        try:
            answer = api.keys.ListKeys(req, timeout=client.DEADLINE)
        except grpc.RpcError as exc:
            return _fail(exc)
    for k in answer.keys:
        state = "revoked" if k.HasField("revoked_at") else "active"
        kind = "session of " + k.parent_id if k.parent_id else "key"
        created = k.created_at.ToDatetime().strftime("%Y-%m-%d %H:%M")
        print(f"{k.id}  {ROLE_NAMES.get(k.role, '?'):7}  {state:7}  {created}  {kind}  {k.name}")
    if not answer.keys:
        print("no keys")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    with client.connect(args.target, client.security(args)) as api:
        try:
            answer = api.keys.RevokeKey(kpb.RevokeKeyRequest(key_id=args.key_id), timeout=10)
        except grpc.RpcError as exc:
            return _fail(exc)
    print(f"revoked {answer.key.id} ({answer.key.name}) and {answer.sessions_revoked} session(s)")
    return 0


def login_url(api: client.Api, frontend: str) -> str:
    """A one-time login URL of the front end at `frontend`, for the caller's key."""
    token = api.keys.CreateLoginToken(kpb.CreateLoginTokenRequest(), timeout=10).token
    return f"{frontend.rstrip('/')}/login?token={token}"


def run_login_url(args: argparse.Namespace) -> int:
    with client.connect(args.target, client.security(args)) as api:
        try:
            print(login_url(api, args.frontend))
        except grpc.RpcError as exc:
            return _fail(exc)
    return 0
