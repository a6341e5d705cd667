"""npm's requests as the real client sends them, through the in-process app."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from hoist.client import HoistClient
from tests.asgi import SyncASGITransport
from tests.conftest import _Unclosable
from tests.npm_documents import publish_document, tarball


def npm_clients(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[Callable[..., httpx.Client]]:
    """For an ``npm_as`` fixture: an HTTP client of a principal (made with ``grants`` if new) at
    ``/npm/<registry>/``, sending its token as npm sends ``_authToken`` (Bearer):
    ``npm_as("ci-bot")``, ``npm_as("rel", ("role:release",), "prod")``."""
    opened: list[httpx.Client] = []

    def make(name: str, grants: tuple[str, ...] = ("role:ci",), registry: str = "dev") -> httpx.Client:
        headers = {"Authorization": f"Bearer {token_for(name, grants, robot=name.endswith('-bot'))}"}
        base = f"http://hoist.test/npm/{registry}/"
        c = httpx.Client(transport=_Unclosable(transport), base_url=base, headers=headers)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


def publish(npm: httpx.Client, name: str, version: str, data: bytes | None = None, **manifest: Any) -> httpx.Response:
    """``npm publish``: the document libnpmpublish sends, to the %2f-encoded name."""
    data = data if data is not None else tarball({"name": name, "version": version, **manifest})
    doc = publish_document(name, version, data, **manifest)
    return npm.put(name.replace("/", "%2f"), content=json.dumps(doc), headers={"Content-Type": "application/json"})


def events(client: HoistClient, action: str) -> list[dict[str, Any]]:
    return [ev for ev in map(json.loads, client.export_lines()) if ev["action"] == action]
