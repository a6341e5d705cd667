"""The npm endpoints that hold no package: ping, whoami, login and audit."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hoist.domain.errors import InvalidInput
from hoist.domain.jsonlimits import API_BODY_BYTES, read_json
from hoist.domain.names import clip
from hoist.formats.npm import audit
from hoist.formats.npm.paths import Kind, Target
from hoist.formats.npm.routes import Handlers
from hoist.http.bodies import read_body
from hoist.http.identity import actor_of
from hoist.services.authentication import Authentication
from hoist.services.tokens import TokenService
from hoist.services.vulnerabilities import VulnerabilityService

PURL_TYPE = "npm"
TOKEN_DAYS = 90  # what ``hoist token create`` gives by default


@dataclass(frozen=True)
class NpmSession:
    authentication: Authentication
    tokens: TokenService
    vulnerabilities: VulnerabilityService

    def handlers(self) -> Handlers:
        return {
            (Kind.PING, "GET"): self.ping,
            (Kind.WHOAMI, "GET"): self.whoami,
            (Kind.USER, "PUT"): self.login,
            (Kind.AUDIT_BULK, "POST"): self.audit_bulk,
        }

    async def ping(self, _request: Request, _registry: str, _target: Target) -> Response:
        return JSONResponse({})

    async def whoami(self, request: Request, _registry: str, _target: Target) -> Response:
        actor = actor_of(request)
        if not actor.authenticated:
            return JSONResponse({"error": "you are not logged in: npm login, or a Hoist token as _authToken"}, 401)
        return JSONResponse({"username": actor.name})

    async def login(self, request: Request, _registry: str, target: Target) -> Response:
        """``npm login`` (CouchDB shape): the password is checked, a new API token is the answer.
        No user is ever created here: users are made by administrators."""
        doc = read_json(await read_body(request, API_BODY_BYTES), limit=API_BODY_BYTES, where="npm login")
        if not isinstance(doc, dict) or not isinstance(doc.get("password"), str):
            raise InvalidInput("npm login sends a JSON object with the name and password")
        if doc.get("name", target.user) != target.user:
            raise InvalidInput(f"the login names {clip(str(doc.get('name')))!r}, the URL {clip(target.user)!r}")
        source = request.client.host if request.client else None
        actor = await run_in_threadpool(self.authentication.authenticate, target.user, doc["password"], source)
        created = await run_in_threadpool(
            lambda: self.tokens.create_token(actor, description="npm login", expires_in_days=TOKEN_DAYS)
        )
        return JSONResponse({"ok": f"you are logged in as {actor.name}", "token": created.secret}, 201)

    async def audit_bulk(self, request: Request, registry: str, _target: Target) -> Response:
        body = await read_body(request, audit.MAX_REQUEST_BYTES)
        asked = audit.read_request(body, request.headers.get("content-encoding"))
        matches = await run_in_threadpool(
            lambda: self.vulnerabilities.affecting(PURL_TYPE, asked, registry=registry, actor=actor_of(request))
        )
        return JSONResponse(audit.bulk(matches))
