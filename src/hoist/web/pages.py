"""The pages of the web UI: login and logout, the board, one artifact.

Each page calls the services the API calls, with the logged-in actor: the same rights and refusals.
A page asked for without a session sends the browser to the login page (and back afterwards).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from hoist.domain.errors import HoistError, TooManyAttempts, Unauthenticated
from hoist.domain.models import Actor, ArtifactRef
from hoist.http.bodies import read_body
from hoist.http.identity import actor_of
from hoist.services.audit import AuditService
from hoist.services.authentication import Authentication
from hoist.services.board import BoardService
from hoist.services.catalog import CatalogService
from hoist.services.guard import Guard
from hoist.services.inventory import InventoryService
from hoist.services.tokens import TokenService
from hoist.web.render import HERE, LOGIN, PREFIX, SECURITY_HEADERS, error_page, templates
from hoist.web.session import HOME, SESSION_DAYS, Sessions, forget, keep, local_next

FORM_BYTES = 16 * 1024
Page = Callable[[Request, Actor], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class WebServices:
    authentication: Authentication
    tokens: TokenService
    guard: Guard
    board: BoardService
    catalog: CatalogService
    inventory: InventoryService
    audit: AuditService


class Pages:
    def __init__(self, services: WebServices, sessions: Sessions) -> None:
        self.s = services
        self.sessions = sessions

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        actor = actor_of(request)
        context |= {"user": actor.name if actor.authenticated else None, "csrf": self.sessions.csrf(request)}
        return templates.TemplateResponse(request, name, context, status_code=status)

    # -- login and logout --------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if actor_of(request).authenticated:
            return RedirectResponse(local_next(request.query_params.get("next")), 303)
        return self.render(request, "login.html", next=local_next(request.query_params.get("next")), error=None)

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        username, password, target = form.get("username", ""), form.get("password", ""), local_next(form.get("next"))
        source = request.client.host if request.client else None
        try:  # the authenticator audits a failure and counts it towards the lockout the API shares
            actor = await run_in_threadpool(self.s.authentication.authenticate, username, password, source)
        except TooManyAttempts as exc:
            return self.render(request, "login.html", 429, next=target, error=str(exc))
        except Unauthenticated as exc:
            return self.render(request, "login.html", 401, next=target, error=str(exc))
        created = await run_in_threadpool(
            lambda: self.s.tokens.create_token(actor, description="web session", expires_in_days=SESSION_DAYS)
        )
        response = RedirectResponse(target, 303)
        keep(response, request, created.secret)
        return response

    async def logout(self, _request: Request, actor: Actor) -> Response:
        if actor.credential and actor.credential.startswith("token:"):
            token_id = actor.credential.removeprefix("token:")
            await run_in_threadpool(self.s.tokens.revoke_token, actor, token_id)
        response = RedirectResponse(LOGIN, 303)
        forget(response)
        return response

    # -- pages ---------------------------------------------------------------------------------------

    async def board(self, request: Request, actor: Actor) -> Response:
        query = request.query_params.get("q", "")[:200]
        board = await run_in_threadpool(lambda: self.s.board.board(actor=actor, query=query))
        return self.render(request, "board.html", board=board, q=query)

    async def artifact(self, request: Request, actor: Actor) -> Response:
        ref = ArtifactRef.parse(request.path_params["ref"])

        def read() -> dict[str, Any]:
            details = self.s.catalog.describe(ref, actor=actor)
            return {
                "details": details,
                "components": self.s.inventory.components(ref, actor=actor),
                "events": self.s.audit.history(ref, actor=actor),
            }

        return self.render(request, "artifact.html", ref=str(ref), **await run_in_threadpool(read))


def logged_in(page: Page, pages: Pages) -> Callable[[Request], Awaitable[Response]]:
    """``page`` for a logged-in actor; nobody is sent to log in, and a POST without the session's
    CSRF token is refused (403) and audited like any denial."""

    async def endpoint(request: Request) -> Response:
        actor = actor_of(request)
        if not actor.authenticated:
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{LOGIN}?next={quote(wanted, safe='')}", 303)
        if request.method == "POST":
            sent = (await read_form(request)).get("csrf", "")
            if not pages.sessions.csrf_holds(request, sent):
                asked = f"POST {request.url.path[:200]} without this session's CSRF token"
                await run_in_threadpool(lambda: pages.s.guard.deny(actor, [], asked=asked, subject="web"))
        return await page(request, actor)

    return endpoint


async def read_form(request: Request) -> dict[str, str]:
    """A small url-encoded form, read once (the body is kept on the request)."""
    cached: dict[str, str] | None = request.scope.get("hoist.form")
    if cached is None:
        body = await read_body(request, FORM_BYTES)
        cached = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        request.scope["hoist.form"] = cached
    return cached


class Secured:
    """Adds the security headers (CSP and friends) to every answer of the room."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_secured(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secured)


def web_app(services: WebServices, secret: bytes) -> ASGIApp:
    pages = Pages(services, Sessions(secret))

    async def handle(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HoistError)
        return error_page(exc)

    async def home(_request: Request) -> Response:
        return RedirectResponse(HOME, 307)

    routes = [
        Route(PREFIX, home),
        Route(LOGIN, pages.login_form, methods=["GET"]),
        Route(LOGIN, pages.login, methods=["POST"]),
        Route(f"{PREFIX}/logout", logged_in(pages.logout, pages), methods=["POST"]),
        Route(HOME, logged_in(pages.board, pages), methods=["GET"]),
        Route(PREFIX + "/artifacts/{ref:path}", logged_in(pages.artifact, pages), methods=["GET"]),
        Mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Secured(Starlette(routes=routes, exception_handlers={HoistError: handle}))
