"""Bearer tokens for the OCI token flow: an HMAC-SHA256-signed, expiring statement of who the holder
is and which scopes (``repository:dev/shop/api:pull,push``) were asked for. Verified in constant
time; the secret is shared by every server process (configuration, or a file in the data folder)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from hoist.domain.errors import Unauthenticated
from hoist.domain.models import Actor

PREFIX = "hoist1"


@dataclass(frozen=True, slots=True)
class Grant:
    actor: Actor
    scopes: tuple[str, ...]
    expires_at: int


class TokenSigner:
    def __init__(self, secret: bytes, *, ttl: int = 300) -> None:
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        self._secret = secret
        self.ttl = ttl

    def issue(self, actor: Actor, scopes: tuple[str, ...], *, now: float | None = None) -> tuple[str, int]:
        issued = int(now if now is not None else time.time())
        payload = {
            "sub": actor.name,
            "kind": actor.kind,
            "auth": actor.authenticated,
            "scopes": list(scopes),
            "iat": issued,
            "exp": issued + self.ttl,
        }
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{PREFIX}.{body}.{self._sign(body)}", issued

    def verify(self, token: str, *, now: float | None = None) -> Grant:
        try:
            prefix, body, signature = token.split(".")
        except ValueError:
            raise Unauthenticated("the bearer token is malformed") from None
        if prefix != PREFIX or not hmac.compare_digest(signature, self._sign(body)):
            raise Unauthenticated("the bearer token is not one this server issued")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if payload["exp"] < (now if now is not None else time.time()):
            raise Unauthenticated("the bearer token has expired: ask /v2/token for a new one")
        actor = Actor(name=payload["sub"], kind=payload["kind"], authenticated=payload["auth"])
        return Grant(actor, tuple(payload["scopes"]), payload["exp"])

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
