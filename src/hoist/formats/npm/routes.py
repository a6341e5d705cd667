"""The npm registry endpoints under ``/npm/<registry>/``. Handlers parse, call one service method
and shape npm's answer; errors come back as npm prints them: ``{"error": "..."}`` with the status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoist.domain.errors import HoistError, InvalidInput, NotFound
from hoist.domain.jsonlimits import API_BODY_BYTES, read_json
from hoist.domain.names import clip
from hoist.domain.policy import Policy
from hoist.formats.npm import audit
from hoist.formats.npm.paths import Kind, Target, parse
from hoist.http.bodies import capped, check_declared_length
from hoist.http.errors import status_of
from hoist.http.identity import actor_of
from hoist.services.authentication import Authentication
from hoist.services.tokens import TokenService
from hoist.services.vulnerabilities import VulnerabilityService

PURL_TYPE = "npm"
TOKEN_DAYS = 90  # what ``hoist token create`` gives by default

Handler = Callable[[Request, str, Target], Awaitable[Response]]


def npm_error(error: HoistError) -> JSONResponse:
    """npm prints ``error`` after the status line (npm-registry-fetch's HttpErrorGeneral)."""
    return JSONResponse({"error": error.message}, status_of(error))


async def read_body(request: Request, limit: int) -> bytes:
    check_declared_length(request.headers, limit)
    return await Request(request.scope, capped(request.receive, limit)).body()


@dataclass
class NpmEndpoints:
    policy: Policy
    authentication: Authentication
    tokens: TokenService
    vulnerabilities: VulnerabilityService

    def table(self) -> dict[tuple[Kind, str], Handler]:
        return {
            (Kind.PING, "GET"): self.ping,
            (Kind.WHOAMI, "GET"): self.whoami,
            (Kind.USER, "PUT"): self.login,
            (Kind.AUDIT_BULK, "POST"): self.audit_bulk,
        }

    async def dispatch(self, request: Request) -> Response:
        registry = request.path_params["registry"]
        try:
            self.policy.registry(registry)
            target = parse(request.path_params.get("rest", ""))
            handler = self.table().get((target.kind, request.method))
            if handler is None:
                raise NotFound(f"npm asks for no {request.method} on {clip(request.url.path)!r} (Hoist answers none)")
            return await handler(request, registry, target)
        except HoistError as exc:
            return npm_error(exc)

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
        asked = audit.read_request(
            await read_body(request, audit.MAX_REQUEST_BYTES), request.headers.get("content-encoding")
        )
        matches = await run_in_threadpool(
            lambda: self.vulnerabilities.affecting(PURL_TYPE, asked, registry=registry, actor=actor_of(request))
        )
        return JSONResponse(audit.bulk(matches))


def npm_app(endpoints: NpmEndpoints) -> Starlette:
    async def handle(request: Request) -> Response:
        return await endpoints.dispatch(request)

    methods = ["GET", "HEAD", "PUT", "POST", "DELETE"]
    return Starlette(
        routes=[
            Route("/npm/{registry}/", handle, methods=methods),
            Route("/npm/{registry}/{rest:path}", handle, methods=methods),
        ]
    )
