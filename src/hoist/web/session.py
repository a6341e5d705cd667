"""Sessions of the web UI: an API token made at login and kept in an HttpOnly cookie; the CSRF token
every form posts (an HMAC of the session token under the server's token secret); where a login may
send the browser next (a local page of the UI only: no open redirect)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from hoist.web.render import COOKIE, PREFIX

SESSION_DAYS = 1  # the shortest lifetime a token may have; the cookie lives as long
HOME = f"{PREFIX}/"


class Sessions:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def csrf(self, request: Request) -> str:
        """The CSRF token of the request's session ('' without one)."""
        session = request.cookies.get(COOKIE)
        if not session:
            return ""
        return hmac.new(self._secret, session.encode(), hashlib.sha256).hexdigest()

    def csrf_holds(self, request: Request, sent: str) -> bool:
        expected = self.csrf(request)
        return bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())


def keep(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_DAYS * 86400,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PREFIX)


def local_next(target: str | None) -> str:
    """``target`` when it is a page of this UI, else the board: never another site."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == PREFIX or parts.path.startswith(HOME)):
        return HOME
    return target
