"""How the web room answers: templates (autoescaped), the security headers every answer carries,
and a domain error as a page (an expired or revoked session: back to the login page)."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from hoist.domain.errors import HoistError, TooManyAttempts, Unauthenticated
from hoist.http.errors import status_of

HERE = Path(__file__).parent
PREFIX = "/ui"
LOGIN = f"{PREFIX}/login"
COOKIE = "hoist_session"
CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
)


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(error: HoistError) -> Response:
    """``error`` as a page; a session the server no longer accepts sends the browser to log in."""
    if isinstance(error, Unauthenticated) and not isinstance(error, TooManyAttempts):
        response: Response = RedirectResponse(LOGIN, 303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return secured(response)
    html = templates.get_template("error.html").render(code=status_of(error), message=str(error), user=None)
    return secured(HTMLResponse(html, status_of(error)))
