"""Who is asking, resolved once per request by ``IdentityMiddleware``, the same way on every
protocol (the JSON API, /v2, and the package formats to come).

Credentials, in order:

- ``Authorization: Bearer hoist1.…``: a short-lived token from /v2/token (distribution's token
  authentication), verified in constant time without a database read; it carries the actor and its
  permissions;
- ``Authorization: Bearer hoist_…``: an API token (``hoist token create``, or the bootstrap token);
- ``Authorization: Basic``: a username with a password or an API token (``docker login``, twine, npm);
- a session cookie, on the rows that name one (the web UI's ``hoist_session``): an API token;
- none: ``anonymous``, who may read the registries that allow anonymous reads.

Which of these a protocol takes, the challenge its 401s carry and the shape of its errors are its
row of the edge table (``http/edge.py``, filled by ``app.py``).
Wrong credentials are a 401 (audited by the authenticator), never a silent downgrade to anonymous.
Anonymous callers may only read: any other request is a 401 (audited) before its body is read,
except on /v2, which decides per repository.
On /v2 a request without credentials to the base endpoint, and any 401, carry the challenge OCI
clients answer by fetching a token (``WWW-Authenticate: Bearer realm=…,service=…,scope=…``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from hoist.domain.errors import InvalidInput, Unauthenticated
from hoist.domain.jsonlimits import HEADER_BYTES, read_json
from hoist.domain.models import Actor, Pipeline
from hoist.domain.ports import Authenticator
from hoist.http.edge import Credential, Edge, EdgeTable
from hoist.http.tokens import PREFIX as OCI_TOKEN_PREFIX
from hoist.http.tokens import TokenSigner

PIPELINE_HEADER = "x-hoist-pipeline"
SCOPE_KEY = "hoist.actor"
TOKEN_PATH = "/v2/token"  # noqa: S105 - a path, not a password
SERVICE = "hoist"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def actor_of(request: HTTPConnection) -> Actor:
    actor = request.scope.get(SCOPE_KEY)
    if not isinstance(actor, Actor):
        raise RuntimeError("IdentityMiddleware must run before any endpoint")
    return actor


def pipeline_of(request: HTTPConnection) -> Pipeline | None:
    raw = request.headers.get(PIPELINE_HEADER)
    if not raw:
        return None
    data = read_json(raw, limit=HEADER_BYTES, where="the X-Hoist-Pipeline header")
    if not isinstance(data, dict):
        raise InvalidInput("the X-Hoist-Pipeline header must be a JSON object")
    return Pipeline.from_dict(data)


def cookie_of(scope: Scope, name: str) -> str | None:
    return HTTPConnection(scope).cookies.get(name)


def basic_credentials(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("the Basic credentials are not valid base64") from None
    username, sep, secret = decoded.partition(":")
    if not sep:
        raise Unauthenticated("the Basic credentials must be username:password")
    return username, secret


def challenge(scope: Scope, actions: str | None = None) -> str:
    """The Bearer challenge for a /v2 request (the token endpoint itself asks for Basic)."""
    path: str = scope.get("path", "")
    if path == TOKEN_PATH:
        return f'Basic realm="{SERVICE}"'
    host = Headers(scope=scope).get("host", "localhost")
    realm = f"{scope.get('scheme', 'http')}://{host}{TOKEN_PATH}"
    value = f'Bearer realm="{realm}",service="{SERVICE}"'
    repository = repository_of(path)
    if repository:
        if actions is None:
            method = scope.get("method")
            actions = "pull" if method in {"GET", "HEAD"} else "delete" if method == "DELETE" else "pull,push"
        value += f',scope="repository:{repository}:{actions}"'
    return value


def repository_of(path: str) -> str | None:
    if not path.startswith("/v2/"):
        return None
    for marker in ("/manifests/", "/blobs/", "/tags/", "/referrers/"):
        if marker in path:
            return path[len("/v2/") : path.index(marker)]
    return None


class IdentityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator,
        signer: TokenSigner,
        edges: EdgeTable,
        record_unauthenticated: Callable[[Actor, str], None] | None = None,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.signer = signer
        self.edges = edges
        self.record_unauthenticated = record_unauthenticated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        source = client[0] if client else None
        path: str = scope.get("path", "")
        edge = self.edges.of(path)
        authorization = Headers(scope=scope).get("authorization")
        try:
            actor = await self._resolve(edge, authorization, source, scope)
        except Unauthenticated as exc:  # TooManyAttempts too: a 429 in the same shape
            await edge.refusal(exc, scope)(scope, receive, send)
            return
        if authorization is None and path in edge.probes:
            # Clients probe the base endpoint to learn how to authenticate (docker login, skopeo).
            error = Unauthenticated("authentication required: log in, or fetch an anonymous token")
            await edge.refusal(error, scope)(scope, receive, send)
            return
        if not edge.takes_anonymous_change(path) and not actor.authenticated and scope.get("method") not in READ_METHODS:
            # No anonymous caller may change anything, so the answer is known before the body is
            # read: a large body from nobody costs the server nothing.
            asked = f"{scope.get('method')} {path[:200]}"
            if self.record_unauthenticated is not None:
                await run_in_threadpool(self.record_unauthenticated, actor, asked)
            error = Unauthenticated(f"{asked} needs you to log in ({edge.login})")
            await edge.refusal(error, scope)(scope, receive, send)
            return
        scope[SCOPE_KEY] = actor
        await self.app(scope, receive, send)

    async def _resolve(self, edge: Edge, authorization: str | None, source: str | None, scope: Scope) -> Actor:
        if not authorization:
            session = edge.cookie and cookie_of(scope, edge.cookie)
            if session:
                return await self._secret(None, session, source)
            return self.authenticator.anonymous(source)
        kind, _, value = authorization.partition(" ")
        value = value.strip()
        if kind.lower() == "bearer":
            if value.startswith(OCI_TOKEN_PREFIX + "."):
                edge.accepting(Credential.OCI_BEARER)
                return self.signer.verify(value).actor(source)
            edge.accepting(Credential.API_TOKEN)
            return await self._secret(None, value, source)
        if kind.lower() == "basic":
            edge.accepting(Credential.BASIC)
            username, secret = basic_credentials(value)
            return await self._secret(username, secret, source)
        raise Unauthenticated(f"unsupported authorization scheme {kind[:20]!r}: use Basic or Bearer")

    async def _secret(self, username: str | None, secret: str, source: str | None) -> Actor:
        """A token (``username`` None) or a username with a password or token: one proved a moment
        ago is known on the event loop; anything else is checked in a worker thread (audited)."""
        known = self.authenticator.recent(username, secret, source)
        if known is not None:
            return known
        if username is None:
            return await run_in_threadpool(self.authenticator.authenticate_token, secret, source)
        return await run_in_threadpool(self.authenticator.authenticate, username, secret, source)
