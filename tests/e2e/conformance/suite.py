"""The suite's client (the Bearer token flow with a username and password, as the Go client reggie
does), the state the checks share in order, and the registry of checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.e2e.conformance.setup import DELETE_MANIFEST_BEFORE_BLOBS, NAME, OCI_MANIFEST, Blob, Data

# -- the client: Bearer token flow with a username and password, as reggie does ----------------------


class TokenAuth(httpx.Auth):
    """On a 401, ask the challenge's realm for a token with Basic credentials, retry with it."""

    def __init__(self, username: str, password: str) -> None:
        self.basic = httpx.BasicAuth(username, password)
        self.token: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token:
            request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or not challenge.startswith("Bearer "):
            return
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm")
        token_request = httpx.Request("GET", realm, params=params)
        token_request.headers["Authorization"] = self.basic._auth_header
        token_response = yield token_request
        token_response.read()
        self.token = token_response.json()["token"]
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def relative(response: httpx.Response) -> str:
    """The Location of a response, as a path and query on the registry."""
    location = httpx.URL(response.headers.get("location", ""))
    return location.raw_path.decode()


def ok(response: httpx.Response) -> bool:
    return 200 <= response.status_code < 300


def expect(response: httpx.Response, *statuses: int | str) -> None:
    """The status is one of ``statuses`` (``"2xx"`` for any success)."""
    if not any(ok(response) if s == "2xx" else response.status_code == s for s in statuses):
        request = response.request
        raise AssertionError(
            f"{request.method} {request.url.path} answered {response.status_code}, expected one of {statuses}: "
            + response.text[:500]
        )


@dataclass
class Suite:
    """The state the Go suite keeps in package variables, shared by checks in order."""

    http: httpx.Client
    data: Data = field(default_factory=Data)
    tag: str = ""
    last: httpx.Response | None = None
    previous: httpx.Response | None = None
    tags: list[str] = field(default_factory=list)
    num_tags: int = 0
    blob_delete_allowed: bool = True

    def request(self, method: str, path: str, *, name: str = NAME, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path.replace("<name>", name), **kwargs)

    def upload(self, blob: Blob, *, name: str = NAME) -> httpx.Response:
        """POST for a session, then PUT the whole blob to it (the suite's way to populate)."""
        start = self.request("POST", "/v2/<name>/blobs/uploads/", name=name)
        expect(start, 202)
        return self.http.put(
            relative(start),
            params={"digest": blob.digest},
            content=blob.content,
            headers={"Content-Type": "application/octet-stream", "Content-Length": blob.length},
        )

    def put_manifest(self, reference: str, blob: Blob, media_type: str = OCI_MANIFEST) -> httpx.Response:
        return self.request(
            "PUT", f"/v2/<name>/manifests/{reference}", content=blob.content, headers={"Content-Type": media_type}
        )

    def delete(self, kind: str, reference: str, *statuses: int | str) -> None:
        expect(self.request("DELETE", f"/v2/<name>/{kind}/{reference}"), *statuses)

    def tag_list(self, **params: str) -> list[str]:
        response = self.request("GET", "/v2/<name>/tags/list", params=params)
        expect(response, 200)
        tags: list[str] = response.json()["tags"]
        return tags


# -- the checks, in the Go suite's order -----------------------------------------------------------


@dataclass(frozen=True)
class Check:
    workflow: str
    context: str
    name: str
    run: Callable[[Suite], None]

    @property
    def id(self) -> str:
        return f"{self.workflow}/{self.context}/{self.name}"


REGISTERED: list[Check] = []


def check(workflow: str, context: str, name: str) -> Callable[[Callable[[Suite], None]], Callable[[Suite], None]]:
    def register(run: Callable[[Suite], None]) -> Callable[[Suite], None]:
        REGISTERED.append(Check(workflow, context, name, run))
        return run

    return register


def delete_manifests_then_blobs(
    workflow: str, manifests: Callable[[Suite], None], blobs: list[tuple[str, Callable[[Suite], None]]]
) -> None:
    """A teardown: manifests before blobs (or after, per OCI_DELETE_MANIFEST_BEFORE_BLOBS)."""
    if DELETE_MANIFEST_BEFORE_BLOBS:
        check(workflow, "Teardown", "Delete manifests created in the workflow")(manifests)
    for name, run in blobs:
        check(workflow, "Teardown", name)(run)
    if not DELETE_MANIFEST_BEFORE_BLOBS:
        check(workflow, "Teardown", "Delete manifests created in the workflow")(manifests)
