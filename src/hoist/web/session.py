"""Sessions of the web UI: an API token made at login and kept in an HttpOnly cookie; the CSRF token
every form posts (an HMAC of the session token under the server's token secret); the login form's own
token (an HMAC of a random pre-session nonce kept in another HttpOnly cookie, so that another site
cannot log a browser in as someone else); where a login may send the browser next (a local page of
the UI only: no open redirect)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from hoist.web.render import COOKIE, LOGIN, PREFIX

SESSION_DAYS = 1  # the shortest lifetime a token may have; the cookie lives as long
HOME = f"{PREFIX}/"
LOGIN_COOKIE = "hoist_login"


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
        return _same(self.csrf(request), sent)

    def login_nonce(self, request: Request) -> str:
        """The browser's pre-session nonce, or a new one (``keep_nonce`` sends it)."""
        return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)

    def login_csrf(self, nonce: str) -> str:
        return hmac.new(self._secret, b"login\0" + nonce.encode(), hashlib.sha256).hexdigest()

    def login_holds(self, request: Request, sent: str) -> bool:
        nonce = request.cookies.get(LOGIN_COOKIE)
        return bool(nonce) and _same(self.login_csrf(nonce or ""), sent)


def _same(expected: str, sent: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())


def keep_nonce(response: Response, request: Request, nonce: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE, nonce, path=LOGIN, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


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


def forget_nonce(response: Response) -> None:
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN)


def local_next(target: str | None) -> str:
    """``target`` when it is a page of this UI, else the board: never another site."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == PREFIX or parts.path.startswith(HOME)):
        return HOME
    return target
