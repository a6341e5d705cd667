"""Speaking the PyPI protocols to the in-process app, as twine and pip do (Basic auth, API token as password)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hoist.client import HoistClient
from hoist.formats.pypi import simple
from tests import pypi_files
from tests.asgi import SyncASGITransport
from tests.conftest import _Unclosable

ROLES = {"ci": ("role:ci",), "rel": ("role:release",), "ops": ("role:operator",), "dev": ("role:developer",)}
AUDITOR = ("audrey", ["role:auditor"])


@pytest.fixture
def pypi_as(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[Callable[[str], httpx.Client]]:
    """A PyPI client of one of ``ROLES`` (ci: a robot that pushes into dev; rel: release, promotes;
    ops: operator, reads prod only; dev: developer)."""
    opened: list[httpx.Client] = []

    def make(name: str) -> httpx.Client:
        token = token_for(name, ROLES[name], robot=name == "ci")
        client = httpx.Client(transport=_Unclosable(transport), base_url="http://hoist.test", auth=(name, token))
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.close()


def upload(
    http: httpx.Client, registry: str, content: bytes, filename: str, name: str, version: str, **extra: str
) -> httpx.Response:
    data, files = pypi_files.twine_form(content, filename, name, version, **extra)
    return http.post(f"/pypi/{registry}/", data=data, files=files)


def project(http: httpx.Client, registry: str, name: str) -> dict[str, Any]:
    r = http.get(f"/pypi/{registry}/simple/{name}/", headers={"Accept": simple.JSON})
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def events(auditor: HoistClient, action: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = auditor.request("GET", "/audit/events").json()
    return [e for e in listed if e["action"] == action]


def fetch(http: httpx.Client, registry: str, name: str, url: str, method: str = "GET") -> httpx.Response:
    """A file link of a project page, resolved as pip resolves it (relative to the page)."""
    link = httpx.URL(f"http://hoist.test/pypi/{registry}/simple/{name}/").join(url)
    return http.request(method, link, follow_redirects=True)
