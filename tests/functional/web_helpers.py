"""A browser-like client of the web UI for functional tests: log in through the form (with its CSRF
token), read a page's CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from hoist.app import Services
from tests.asgi import SyncASGITransport
from tests.conftest import ADMIN

PASSWORD = "correct horse battery staple"

Browser = Callable[..., httpx.Client]


@pytest.fixture
def browser(transport: SyncASGITransport, services: Services) -> Iterator[Browser]:
    """A browser-like client (cookies kept, redirects not followed) logged in as a new user with
    ``grants``: ``browser("vera", ["read:dev"])``; ``login=False`` only makes the user."""
    opened: list[httpx.Client] = []

    def make(name: str, grants: list[str], *, login: bool = True) -> httpx.Client:
        services.administration.create_user(ADMIN, name, password=PASSWORD, grants=grants)
        web = httpx.Client(transport=transport, base_url="http://hoist.test")
        opened.append(web)
        if login:
            answer = log_in(web, name, PASSWORD, next="/ui/")
            assert answer.status_code == 303 and answer.headers["location"] == "/ui/", answer.text
        return web

    yield make
    for web in opened:
        web.close()


def log_in(web: httpx.Client, username: str, password: str, *, base: str = "", **fields: str) -> httpx.Response:
    """Post the login form as a browser does: with the token of the form it was shown."""
    form = web.get(f"{base}/ui/login")
    data = {"username": username, "password": password, "csrf": csrf_of(form), **fields}
    return web.post(f"{base}/ui/login", data=data)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found, page.text
    return found.group(1)
