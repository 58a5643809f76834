"""API keys: issuing, checking and revoking them, login tokens and browser sessions.

A key string is `frk_<id>_<secret>` (`frs_` for a session, `frl_` for a login token): the
id finds the row, the secret's SHA-256 must equal the stored hash. Secrets are 256 random
bits, so a plain hash is as strong as a slow one and costs microseconds per call.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from facerec.compute.domain import ApiKey, KeyKind, Role
from facerec.compute.errors import InvalidArgument, NotFound, Unauthenticated
from facerec.compute.store.interfaces import KeyStore

log = logging.getLogger(__name__)

PREFIX = {KeyKind.KEY: "frk", KeyKind.SESSION: "frs", KeyKind.LOGIN: "frl"}
_KIND_OF = {v: k for k, v in PREFIX.items()}
ID_CHARS = 16
ADMIN_KEY_FILE = "admin.key"
# A checked key is trusted this long before the store is asked again; revocation through
# this server is immediate (the cache is dropped), through another one takes this long.
CACHE_SECONDS = 5.0
MAX_NAME = 200
MAX_KEY_TTL = 10 * 365 * 86400
LOGIN_TTL = (86400, 7 * 86400)
SESSION_TTL = (7 * 86400, 30 * 86400)

NO_KEY = (
    "this call needs an API key: send 'authorization: Bearer <key>' (facerec keys create"
    " makes one; `facerec serve` wrote an admin key to admin.key in its data directory)"
)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse(token: str) -> tuple[KeyKind, str, str]:
    """(kind, id, whole token) of a key string; Unauthenticated when it is not one."""
    token = token.strip()
    kind = _KIND_OF.get(token[:3])
    key_id = token[4 : 4 + ID_CHARS]
    if (
        kind is None
        or token[3:4] != "_"
        or token[4 + ID_CHARS : 5 + ID_CHARS] != "_"
        or len(token) < 5 + ID_CHARS + 20
        or not all(c in "0123456789abcdef" for c in key_id)
    ):
        raise Unauthenticated("that is not a facerec API key (they look like frk_<16 hex>_…)")
    return kind, key_id, token


def key_id_of(text: str) -> str:
    """A key id from an id or a whole key string (for revoking)."""
    text = text.strip()
    if len(text) == ID_CHARS:
        return text
    return parse(text)[1]


class KeyRing:
    """Checks and issues keys over a KeyStore; tells listeners when keys are revoked."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[ApiKey, float]] = {}
        self._ephemeral: dict[str, ApiKey] = {}
        self.on_revoke: list[Callable[[set[str]], None]] = []

    def issue(
        self,
        role: Role,
        name: str,
        kind: KeyKind = KeyKind.KEY,
        parent_id: str = "",
        ttl_seconds: float | None = None,
    ) -> tuple[ApiKey, str]:
        """Creates and stores a key; returns it and its key string (shown once)."""
        name = name.strip()
        if not 1 <= len(name) <= MAX_NAME:
            raise InvalidArgument(f"a key's name must be 1-{MAX_NAME} characters")
        key_id = secrets.token_hex(ID_CHARS // 2)
        secret = f"{PREFIX[kind]}_{key_id}_{secrets.token_urlsafe(32)}"
        now = time.time()
        key = ApiKey(
            id=key_id,
            name=name,
            role=role,
            kind=kind,
            created_at=now,
            parent_id=parent_id,
            expires_at=now + ttl_seconds if ttl_seconds else None,
        )
        self.store.add(key, _hash(secret))
        return key, secret

    def ephemeral(self, role: Role, name: str) -> str:
        """A key kept only in this process's memory (for its own worker processes)."""
        key_id = secrets.token_hex(ID_CHARS // 2)
        secret = f"frk_{key_id}_{secrets.token_urlsafe(32)}"
        key = ApiKey(key_id, name, role, KeyKind.KEY, time.time())
        with self._lock:
            self._ephemeral[secret] = key
        return secret

    def cached(self, token: str) -> ApiKey | None:
        """The key of a recently checked key string, without asking the store."""
        with self._lock:
            found = self._ephemeral.get(token)
            if found is not None:
                return found
            cached = self._cache.get(token)
        if cached is not None and time.monotonic() - cached[1] < CACHE_SECONDS:
            return cached[0]
        return None

    def authenticate(self, token: str) -> ApiKey:
        """The usable key (or session) a key string names; Unauthenticated otherwise."""
        found = self.cached(token)
        if found is not None:
            return found
        now = time.monotonic()
        kind, key_id, token = parse(token)
        if kind is KeyKind.LOGIN:
            raise Unauthenticated("a login token only logs a browser in; it is not a key")
        key = self._check(key_id, token)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (key, now)
        return key

    def _check(self, key_id: str, token: str) -> ApiKey:
        row = self.store.get(key_id)
        if row is None or not hmac.compare_digest(row[1], _hash(token)):
            raise Unauthenticated("unknown API key (mistyped, or from another server?)")
        key = row[0]
        if key.revoked_at is not None:
            raise Unauthenticated(f"the API key {key.name!r} ({key.id}) was revoked")
        if not key.usable(time.time()):
            raise Unauthenticated(f"the API key {key.name!r} ({key.id}) has expired")
        if key.parent_id:
            parent = self.store.get(key.parent_id)
            if parent is None or not parent[0].usable(time.time()):
                raise Unauthenticated("the key this session was opened with no longer works")
        return key

    def still_valid(self, key: ApiKey) -> bool:
        """Asks the store again (for long streams: a key revoked through another server)."""
        if any(k is key for k in self._ephemeral.values()):
            return True
        row = self.store.get(key.id)
        if row is None or not row[0].usable(time.time()):
            return False
        if row[0].parent_id:
            parent = self.store.get(row[0].parent_id)
            return parent is not None and parent[0].usable(time.time())
        return True

    def revoke(self, text: str) -> tuple[ApiKey, int]:
        """Revokes a key (by id or key string) and its sessions; streams are told."""
        key, sessions = self.store.revoke(key_id_of(text), time.time())
        with self._lock:
            self._cache.clear()
        gone = {key.id}
        for listener in self.on_revoke:
            listener(gone)
        log.info("key %s (%s) revoked with %d session(s)", key.id, key.name, sessions)
        return key, sessions

    def login_token(self, caller: ApiKey, ttl_seconds: int = 0) -> tuple[ApiKey, str]:
        """A one-time token that opens a browser session acting for `caller`'s key."""
        ttl = _bounded(ttl_seconds, LOGIN_TTL, "ttl_seconds")
        return self.issue(
            caller.role, f"login for {caller.name}", KeyKind.LOGIN, caller.principal, ttl
        )

    def redeem(self, token: str, session_ttl_seconds: int = 0) -> tuple[ApiKey, str]:
        """Exchanges a login token, once, for a session key."""
        kind, key_id, token = parse(token)
        if kind is not KeyKind.LOGIN:
            raise Unauthenticated("that is not a login token")
        ttl = _bounded(session_ttl_seconds, SESSION_TTL, "session_ttl_seconds")
        login = self._check(key_id, token)
        if not self.store.redeem(key_id, time.time()):
            raise Unauthenticated("this login link was used already; ask for a new one")
        parent = self.store.get(login.parent_id)
        if parent is None:
            raise NotFound("the key this login was made for is gone")
        return self.issue(
            login.role, f"browser session of {parent[0].name}", KeyKind.SESSION, parent[0].id, ttl
        )

    def bootstrap(self, data_dir: Path) -> None:
        """On a server's first start (no keys yet), an admin key in `data_dir/admin.key`,
        readable by its owner only: the CLI and `facerec serve` on this machine use it."""
        if self.store.count(KeyKind.KEY) > 0:
            return
        _, secret = self.issue(Role.ADMIN, "first admin key")
        path = data_dir / ADMIN_KEY_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        tmp.replace(path)
        log.info("created the first admin key in %s (readable by this user only)", path)


def _bounded(value: int, limits: tuple[int, int], name: str) -> int:
    default, most = limits
    if value < 0 or value > most:
        raise InvalidArgument(f"{name} must be 0-{most} seconds")
    return value or default
