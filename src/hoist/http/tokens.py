"""Bearer tokens for the OCI token flow: an HMAC-SHA256-signed, expiring statement of who the holder
is, what it may do (its permissions when the token was issued) and which repository actions the
token endpoint granted (``dev/shop/api:pull``). Verified in constant time with no database read; the
secret is shared by every server process (configuration, or a file in the data folder).

A token lives ``ttl`` seconds (5 minutes): revoking an API token or a grant stops new tokens at
once, and tokens already issued within that time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hoist.domain.access import Permission, Permissions
from hoist.domain.errors import Unauthenticated
from hoist.domain.models import Actor

PREFIX = "hoist1"


@dataclass(frozen=True, slots=True)
class Grant:
    name: str
    kind: str
    authenticated: bool
    credential: str | None
    permissions: Permissions
    access: frozenset[str]
    expires_at: int

    def actor(self, source: str | None) -> Actor:
        return Actor(self.name, self.kind, self.authenticated, source, self.permissions, self.credential)


class TokenSigner:
    def __init__(self, secret: bytes, *, ttl: int = 300) -> None:
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        self._secret = secret
        self.ttl = ttl
        self._decode = lru_cache(maxsize=4096)(self._decode_uncached)

    def issue(self, actor: Actor, access: frozenset[str], *, now: float | None = None) -> tuple[str, int]:
        issued = int(now if now is not None else time.time())
        limit = actor.permissions.limit
        payload = {
            "sub": actor.name,
            "kind": actor.kind,
            "auth": actor.authenticated,
            "cred": actor.credential,
            "perm": sorted(str(p) for p in actor.permissions.grants),
            "lim": sorted(str(p) for p in limit) if limit is not None else None,
            "acc": sorted(access),
            "iat": issued,
            "exp": issued + self.ttl,
        }
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{PREFIX}.{body}.{self._sign(body)}", issued

    def verify(self, token: str, *, now: float | None = None) -> Grant:
        grant = self._decode(token)
        if grant.expires_at < (now if now is not None else time.time()):
            raise Unauthenticated("the bearer token has expired: ask /v2/token for a new one")
        return grant

    def _decode_uncached(self, token: str) -> Grant:
        try:
            prefix, body, signature = token.split(".")
        except ValueError:
            raise Unauthenticated("the bearer token is malformed") from None
        if prefix != PREFIX or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            raise Unauthenticated("the bearer token is not one this server issued")
        p: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        limit = frozenset(map(Permission.parse, p["lim"])) if p["lim"] is not None else None
        permissions = Permissions(frozenset(map(Permission.parse, p["perm"])), limit)
        return Grant(p["sub"], p["kind"], p["auth"], p["cred"], permissions, frozenset(p["acc"]), p["exp"])

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
