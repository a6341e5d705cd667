"""The pages of the web UI: login and logout, the board, one artifact (the actions are ``actions``).

Each page calls the services the API calls, with the logged-in actor: the same rights and refusals.
A page asked for without a session sends the browser to the login page (and back afterwards).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hoist.domain.access import Right
from hoist.domain.errors import TooManyAttempts, Unauthenticated
from hoist.domain.models import Actor, ArtifactRef
from hoist.domain.policy import Policy
from hoist.http.bodies import read_body
from hoist.http.identity import actor_of
from hoist.services.audit import AuditService
from hoist.services.authentication import Authentication
from hoist.services.board import BoardService
from hoist.services.catalog import CatalogService
from hoist.services.deployments import DeploymentService
from hoist.services.evidence import EvidenceService
from hoist.services.guard import Guard, abilities
from hoist.services.inventory import InventoryService
from hoist.services.promotion import PromotionService
from hoist.services.tokens import TokenService
from hoist.web.render import LOGIN, templates
from hoist.web.session import SESSION_DAYS, Sessions, forget, forget_nonce, keep, keep_nonce, local_next

FORM_BYTES = 16 * 1024
STALE_LOGIN = "This login form has expired or came from another site: log in again."
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
    policy: Policy
    promotions: PromotionService
    evidence: EvidenceService
    deployments: DeploymentService


class Pages:
    def __init__(self, services: WebServices, sessions: Sessions) -> None:
        self.s = services
        self.sessions = sessions

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        actor = actor_of(request)
        context |= {
            "user": actor.name if actor.authenticated else None,
            "csrf": self.sessions.csrf(request),
            "may": abilities(actor, self.s.policy),  # which buttons to offer; the use case still decides
            "auditor": actor.may(Right.AUDIT),
        }
        return templates.TemplateResponse(request, name, context, status_code=status)

    # -- login and logout --------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if actor_of(request).authenticated:
            return RedirectResponse(local_next(request.query_params.get("next")), 303)
        return self.login_page(request, 200, local_next(request.query_params.get("next")), None)

    def login_page(self, request: Request, status: int, target: str, error: str | None) -> Response:
        """The login form, with its CSRF token and the nonce cookie it is an HMAC of."""
        nonce = self.sessions.login_nonce(request)
        context = {"next": target, "error": error, "login_csrf": self.sessions.login_csrf(nonce)}
        response = self.render(request, "login.html", status, **context)
        keep_nonce(response, request, nonce)
        return response

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        username, password, target = form.get("username", ""), form.get("password", ""), local_next(form.get("next"))
        if not self.sessions.login_holds(request, form.get("csrf", "")):
            asked = "log in to the web UI without the login form's CSRF token (a login from another site?)"
            await run_in_threadpool(self.s.guard.record_unauthenticated, actor_of(request), asked)
            return self.login_page(
                request, 403, target, "This login form has expired or came from another site: log in again."
            )
        source = request.client.host if request.client else None
        try:  # the authenticator audits a failure and counts it towards the lockout the API shares
            actor = await run_in_threadpool(self.s.authentication.authenticate, username, password, source)
        except TooManyAttempts as exc:
            return self.login_page(request, 429, target, str(exc))
        except Unauthenticated as exc:
            return self.login_page(request, 401, target, str(exc))
        created = await run_in_threadpool(
            lambda: self.s.tokens.create_token(actor, description="web session", expires_in_days=SESSION_DAYS)
        )
        response = RedirectResponse(target, 303)
        keep(response, request, created.secret)
        forget_nonce(response)
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
