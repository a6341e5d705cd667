"""Who is asking, and from which pipeline, resolved once per request by ``IdentityMiddleware``.

Credentials, in order: ``Authorization: Bearer`` (a token from /v2/token), ``Authorization: Basic``
(checked by the ``Authenticator``), the declared ``X-Hoist-Actor`` header, else anonymous. Services
only ever see the resulting ``Actor``: the access-control issue changes the authenticator and adds
rules, not this plumbing. With ``oci_auth = "required"``, /v2 requests without credentials get the
401 challenge OCI clients answer by fetching a token (distribution's token authentication spec).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hoist.domain.errors import InvalidInput, Unauthenticated
from hoist.domain.models import Actor, Pipeline
from hoist.domain.ports import Authenticator
from hoist.http.tokens import TokenSigner

ACTOR_HEADER = "x-hoist-actor"
PIPELINE_HEADER = "x-hoist-pipeline"
ANONYMOUS = "anonymous"
SCOPE_KEY = "hoist.actor"
TOKEN_PATH = "/v2/token"  # noqa: S105 - a path, not a password


def actor_of(request: HTTPConnection) -> Actor:
    actor = request.scope.get(SCOPE_KEY)
    if isinstance(actor, Actor):
        return actor
    return declared_actor(request.headers, request.client.host if request.client else None)


def declared_actor(headers: Headers, source: str | None) -> Actor:
    declared = headers.get(ACTOR_HEADER, "").strip()
    if len(declared) > 255 or any(ord(c) < 32 for c in declared):
        raise InvalidInput("the X-Hoist-Actor header must be a printable name of at most 255 characters")
    return Actor(name=declared or ANONYMOUS, kind="user", authenticated=False, source=source)


def pipeline_of(request: HTTPConnection) -> Pipeline | None:
    raw = request.headers.get(PIPELINE_HEADER)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidInput("the X-Hoist-Pipeline header must be a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidInput("the X-Hoist-Pipeline header must be a JSON object")
    return Pipeline.from_dict(data)


def basic_credentials(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("the Basic credentials are not valid base64") from None
    username, sep, secret = decoded.partition(":")
    if not sep:
        raise Unauthenticated("the Basic credentials must be username:password")
    return username, secret


class IdentityMiddleware:
    def __init__(self, app: ASGIApp, authenticator: Authenticator, signer: TokenSigner, *, oci_required: bool) -> None:
        self.app = app
        self.authenticator = authenticator
        self.signer = signer
        self.oci_required = oci_required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope.get("client")
        source = client[0] if client else None
        path: str = scope.get("path", "")
        oci = path == "/v2" or path.startswith("/v2/")
        try:
            actor = self._resolve(headers, source)
        except (Unauthenticated, InvalidInput) as exc:
            await self._challenge(scope, receive, send, exc.message, oci=oci)
            return
        if actor is None:
            if oci and self.oci_required and path != TOKEN_PATH:
                await self._challenge(scope, receive, send, "authentication required", oci=True)
                return
            try:
                actor = declared_actor(headers, source)
            except InvalidInput as exc:
                await self._challenge(scope, receive, send, exc.message, oci=oci)
                return
        scope[SCOPE_KEY] = actor
        await self.app(scope, receive, send)

    def _resolve(self, headers: Headers, source: str | None) -> Actor | None:
        authorization = headers.get("authorization")
        if not authorization:
            return None
        kind, _, value = authorization.partition(" ")
        if kind.lower() == "bearer":
            grant = self.signer.verify(value.strip())
            return Actor(grant.actor.name, grant.actor.kind, grant.actor.authenticated, source)
        if kind.lower() == "basic":
            username, secret = basic_credentials(value.strip())
            actor = self.authenticator.authenticate(username, secret)
            if actor is None:
                raise Unauthenticated("these credentials are not valid")
            return Actor(actor.name, actor.kind, actor.authenticated, source)
        raise Unauthenticated(f"unsupported authorization scheme {kind!r}: use Basic or Bearer")

    async def _challenge(self, scope: Scope, receive: Receive, send: Send, message: str, *, oci: bool) -> None:
        host = Headers(scope=scope).get("host", "localhost")
        scheme = scope.get("scheme", "http")
        realm = f"{scheme}://{host}{TOKEN_PATH}"
        challenge = f'Bearer realm="{realm}",service="hoist"'
        repository = _repository_of(scope.get("path", ""))
        if repository:
            actions = "pull" if scope.get("method") in {"GET", "HEAD"} else "pull,push"
            challenge += f',scope="repository:{repository}:{actions}"'
        headers = {"WWW-Authenticate": challenge if scope.get("path") != TOKEN_PATH else 'Basic realm="hoist"'}
        body: dict[str, Any]
        if oci:
            headers["Docker-Distribution-API-Version"] = "registry/2.0"
            body = {"errors": [{"code": "UNAUTHORIZED", "message": message, "detail": {}}]}
        else:
            body = {"error": {"code": "UNAUTHORIZED", "message": message, "details": {}}}
        await JSONResponse(body, 401, headers=headers)(scope, receive, send)


def _repository_of(path: str) -> str | None:
    if not path.startswith("/v2/"):
        return None
    for marker in ("/manifests/", "/blobs/", "/tags/", "/referrers/"):
        if marker in path:
            return path[len("/v2/") : path.index(marker)]
    return None
