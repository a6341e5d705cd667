"""The web room assembled: its routes (pages and actions), the domain errors as pages, and the
security headers on every answer."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from hoist.domain.errors import HoistError, Unauthenticated
from hoist.http.errors import status_of
from hoist.http.identity import actor_of
from hoist.web.actions import Actions
from hoist.web.audit import AuditPages
from hoist.web.pages import Pages, WebServices, logged_in
from hoist.web.render import HERE, LOGIN, PREFIX, SECURITY_HEADERS, error_page
from hoist.web.session import HOME, Sessions


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
    actions = Actions(pages)
    audit = AuditPages(pages)

    async def handle(request: Request, exc: Exception) -> Response:
        """A refusal of a use case: its message and status, in the page of whoever is logged in."""
        assert isinstance(exc, HoistError)
        if isinstance(exc, Unauthenticated) or not actor_of(request).authenticated:
            return error_page(exc)
        code = status_of(exc)
        return pages.render(request, "error.html", code, code=code, message=str(exc))

    async def home(_request: Request) -> Response:
        return RedirectResponse(HOME, 307)

    routes: list[BaseRoute] = [
        Route(PREFIX, home),
        Route(LOGIN, pages.login_form, methods=["GET"]),
        Route(LOGIN, pages.login, methods=["POST"]),
        Route(f"{PREFIX}/logout", logged_in(pages.logout, pages), methods=["POST"]),
        Route(HOME, logged_in(pages.board, pages), methods=["GET"]),
        Route(PREFIX + "/artifacts/{ref:path}", logged_in(pages.artifact, pages), methods=["GET"]),
        Route(f"{PREFIX}/audit", logged_in(audit.audit, pages), methods=["GET"]),
        Route(f"{PREFIX}/affected", logged_in(audit.affected, pages), methods=["GET"]),
        *(
            Route(f"{PREFIX}/{name}/{{subject:path}}", logged_in(page, pages), methods=[method])
            for name, method, page in actions.routes()
        ),
        Mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Secured(Starlette(routes=routes, exception_handlers={HoistError: handle}))
