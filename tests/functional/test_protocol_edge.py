"""The protocol edge: one table by path prefix says how credentials arrive on each protocol, what a
401 looks like there (and whether it carries a challenge the client answers by retrying with
credentials), and that nobody is refused before a byte of a change's body is read. Played as raw
ASGI, so that the test sees how many body bytes were pulled."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from hoist.app import EDGES, Services, build_app
from hoist.config import Settings
from hoist.domain.errors import Denied, HoistError, RangeNotSatisfiable, TooManyAttempts, Unauthenticated, VersionExists
from hoist.formats.common.edge import MAVEN, NPM, refusals
from hoist.http.edge import Edge
from hoist.http.identity import IdentityMiddleware, actor_of
from hoist.http.tokens import TokenSigner
from hoist.metadata.sql.store import SqlMetadataStore
from tests.asgi import Exchange, play
from tests.functional.helpers import row_counts

MIB = 1024 * 1024
BASIC = 'Basic realm="hoist"'
OCI = "Bearer realm="

# path asked, the error shape answered there, the start of the challenge a 401 carries (None: none)
PROTOCOLS = [
    ("/v2/dev/shop/api/tags/list", "oci", OCI),
    ("/api/v1/whoami", "api", None),
    ("/npm/@acme%2fui", "npm", None),
    ("/maven/dev/org/acme/shop-core/maven-metadata.xml", "text", BASIC),
    ("/pypi/dev/simple/shop-utils/", "text", BASIC),
    ("/generic/dev/shop/api/1.0.0/app.tgz", "text", BASIC),
    ("/", "api", None),
]

# what each native client sends when it publishes, with a large body
CHANGES = [
    ("PUT", "/npm/@acme%2fui", "npm", None),
    ("PUT", "/maven/dev/org/acme/shop-core/1.0.0/shop-core-1.0.0.jar", "text", BASIC),
    ("POST", "/pypi/dev/legacy/", "text", BASIC),
    ("PUT", "/generic/dev/shop/api/1.0.0/app.tgz", "text", BASIC),
]


@pytest.fixture
def app(settings: Settings, services: Services) -> Any:
    return build_app(settings, services)


@pytest.fixture
def dana(token_for: Callable[..., str]) -> str:
    return token_for("dana", ["role:developer"])


def basic(username: str, secret: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()}


def message_of(seen: Exchange, shape: str) -> str:
    """The error message, read the way the protocol's clients read it (and only that way)."""
    if shape == "text":
        assert seen.headers["content-type"].startswith("text/plain"), seen.headers
        return seen.body.decode()
    assert seen.headers["content-type"] == "application/json", seen.headers
    body = json.loads(seen.body)
    if shape == "oci":
        assert body["errors"][0]["code"] == "UNAUTHORIZED"
        return str(body["errors"][0]["message"])
    if shape == "npm":
        assert set(body) == {"error"}
        return str(body["error"])
    assert body["error"]["code"] == "UNAUTHORIZED"
    return str(body["error"]["message"])


def assert_challenge(seen: Exchange, challenge: str | None) -> None:
    if challenge is None:
        assert "www-authenticate" not in seen.headers
    else:
        assert seen.headers["www-authenticate"].startswith(challenge)


@pytest.mark.parametrize(("path", "shape", "challenge"), PROTOCOLS)
def test_wrong_credentials_are_a_401_in_the_shape_of_the_protocol(
    app: Any, dana: str, path: str, shape: str, challenge: str | None
) -> None:
    for headers in (basic("dana", "wrong password"), {"authorization": "Bearer hoist_not-a-token-of-this-server"}):
        seen = play(app, "GET", path, 0, b"", headers)
        assert seen.status == 401, (headers, seen.body)
        assert "not valid" in message_of(seen, shape)
        assert_challenge(seen, challenge)


@pytest.mark.parametrize(("method", "path", "shape", "challenge"), CHANGES)
def test_nobody_is_refused_before_a_byte_of_a_package_is_read(
    app: Any, metadata: SqlMetadataStore, method: str, path: str, shape: str, challenge: str | None
) -> None:
    before = row_counts(metadata)
    seen = play(app, method, path, 223, b"x" * MIB, {"content-length": str(223 * MIB)})
    assert seen.status == 401 and seen.pulled == 0
    assert f"{method} {path} needs you to log in" in message_of(seen, shape)
    assert_challenge(seen, challenge)
    after = row_counts(metadata)
    assert after.pop("audit_events") == before.pop("audit_events") + 1  # the refusal is audited, and nothing else
    assert after == before


def test_a_v2_bearer_token_is_for_v2_and_the_json_api_only(app: Any, dana: str) -> None:
    issued = play(app, "GET", "/v2/token", 0, b"", basic("dana", dana))
    bearer = {"authorization": f"Bearer {json.loads(issued.body)['token']}"}
    assert play(app, "GET", "/api/v1/whoami", 0, b"", bearer).status == 200
    for path, shape, challenge in PROTOCOLS[2:6]:
        seen = play(app, "GET", path, 0, b"", bearer)
        assert seen.status == 401, path
        assert "a /v2 bearer token is not taken here" in message_of(seen, shape)
        assert_challenge(seen, challenge)


async def whoami(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands where a protocol room will be: says who the edge resolved."""
    await JSONResponse({"actor": actor_of(Request(scope)).name})(scope, receive, send)


@pytest.fixture
def edge(services: Services) -> IdentityMiddleware:
    signer = TokenSigner(b"0123456789abcdef0123456789abcdef")
    return IdentityMiddleware(whoami, services.authentication, signer, EDGES, services.guard.record_unauthenticated)


@pytest.mark.parametrize("path", [p for p, _, _ in PROTOCOLS[1:]])
def test_credentials_arrive_as_each_client_sends_them_and_wrong_ones_are_never_anonymous(
    edge: IdentityMiddleware, dana: str, path: str
) -> None:
    def actor(headers: dict[str, str]) -> str | int:
        seen = play(edge, "GET", path, 0, b"", headers)
        return str(json.loads(seen.body)["actor"]) if seen.status == 200 else seen.status

    # npm sends its _authToken as a Bearer; Maven, pip, twine and curl send Basic, a token as password
    assert actor({"authorization": f"Bearer {dana}"}) == "dana"
    assert actor(basic("dana", dana)) == "dana"
    assert actor({}) == "anonymous"
    assert actor(basic("dana", "wrong password")) == 401
    assert actor({"authorization": "Digest username=dana"}) == 401


def room(edge: Edge, error: HoistError) -> Starlette:
    """A protocol room whose one route fails with ``error``, answered by the edge's handlers."""

    async def fail(_request: Request) -> Response:
        raise error

    return Starlette(routes=[Route("/{path:path}", fail, methods=["GET", "HEAD", "PUT"])], exception_handlers=refusals(edge))


@pytest.mark.parametrize(
    ("edge", "error", "status", "headers"),
    [
        (MAVEN, Unauthenticated("log in to read dev"), 401, {"www-authenticate": BASIC}),
        (MAVEN, Denied("push:prod is needed: promote instead"), 403, {}),
        (MAVEN, RangeNotSatisfiable("that range is past the end", size=10), 416, {"content-range": "bytes */10"}),
        (NPM, TooManyAttempts("too many failed logins", retry_after=7), 429, {"retry-after": "7"}),
        (NPM, Unauthenticated("log in to read dev"), 401, {}),
        (NPM, VersionExists("1.0.0 is already published"), 409, {}),
    ],
)
def test_a_room_answers_its_errors_the_way_the_edge_does(
    edge: Edge, error: HoistError, status: int, headers: dict[str, str]
) -> None:
    seen = play(room(edge, error), "GET", f"{edge.prefix}/dev/x", 0, b"", {})
    assert seen.status == status
    assert message_of(seen, "npm" if edge is NPM else "text").strip() == error.message
    assert {k: seen.headers[k] for k in headers} == headers
    if edge is NPM and status == 401:
        assert "www-authenticate" not in seen.headers
    head = play(room(edge, error), "HEAD", f"{edge.prefix}/dev/x", 0, b"", {})
    assert (head.status, head.body) == (status, b"")
