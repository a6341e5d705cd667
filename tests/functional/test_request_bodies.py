"""Request bodies under /api/v1: nobody is refused before the body is read, every route caps its
body (declared or streamed), and JSON bodies go through the bounded reader. Spoken to as raw ASGI,
so that the test sees exactly how many body bytes the app pulled."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hoist.api.bodies import BODY_LIMITS
from hoist.app import Services, build_app
from hoist.config import Settings
from hoist.domain.jsonlimits import API_BODY_BYTES, MAX_DEPTH
from hoist.metadata.sql.store import SqlMetadataStore
from tests.asgi import Exchange, play
from tests.functional.helpers import row_counts

MIB = 1024 * 1024


@pytest.fixture
def app(settings: Settings, services: Services) -> Any:
    return build_app(settings, services)


@pytest.fixture
def ci_token(token_for: Callable[..., str]) -> str:
    return token_for("ci", ["role:ci"])


def error_of(seen: Exchange) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(seen.body)["error"]
    return error


def test_nobody_is_refused_before_a_byte_of_a_223_mb_body_is_read(app: Any, metadata: SqlMetadataStore) -> None:
    before = row_counts(metadata)
    headers = {"content-type": "application/json", "content-length": str(223 * MIB)}
    seen = play(app, "POST", "/api/v1/artifacts", 223, b"x" * MIB, headers)
    assert seen.status == 401 and seen.pulled == 0
    assert error_of(seen)["code"] == "UNAUTHORIZED" and "log in" in error_of(seen)["message"]
    after = row_counts(metadata)
    assert after.pop("audit_events") == before.pop("audit_events") + 1  # the refusal is audited, and nothing else
    assert after == before


def test_nobody_posting_an_empty_object_gets_401_not_400(app: Any) -> None:
    seen = play(app, "POST", "/api/v1/artifacts", 1, b"{}", {"content-type": "application/json", "content-length": "2"})
    assert seen.status == 401 and error_of(seen)["code"] == "UNAUTHORIZED"


def test_anonymous_reads_still_work(app: Any) -> None:
    assert play(app, "GET", "/api/v1/health", 0, b"", {}).status == 200
    assert play(app, "GET", "/api/v1/registries", 0, b"", {}).status == 200


def test_a_declared_length_over_the_cap_is_refused_unread(app: Any, ci_token: str) -> None:
    headers = {"authorization": f"Bearer {ci_token}", "content-type": "application/json"}
    seen = play(app, "POST", "/api/v1/artifacts", 2, b" " * MIB, {**headers, "content-length": str(2 * MIB)})
    assert seen.status == 413 and seen.pulled == 0
    assert error_of(seen)["code"] == "TOO_LARGE" and str(API_BODY_BYTES) in error_of(seen)["message"]


def test_a_chunked_body_is_counted_and_refused_once_past_the_cap(app: Any, ci_token: str) -> None:
    headers = {"authorization": f"Bearer {ci_token}", "content-type": "application/json"}
    chunk = b" " * (64 * 1024)
    seen = play(app, "POST", "/api/v1/artifacts", 100, chunk, headers)  # 6.25 MiB offered, no length
    assert seen.status == 413 and error_of(seen)["code"] == "TOO_LARGE"
    assert seen.pulled <= API_BODY_BYTES + len(chunk)


def test_a_deeply_nested_api_body_is_invalid_input_in_the_api_shape(app: Any, ci_token: str) -> None:
    body = b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = {"authorization": f"Bearer {ci_token}", "content-type": "application/json", "content-length": str(len(body))}
    seen = play(app, "POST", "/api/v1/artifacts", 1, body, headers)
    assert seen.status == 400 and error_of(seen)["code"] == "INVALID_INPUT"
    assert f"nested too deeply (over {MAX_DEPTH} levels)" in error_of(seen)["message"]


def test_routes_that_need_more_take_more(http: httpx.Client) -> None:
    # an SBOM over the ordinary cap reaches the SBOM reader (and is refused as not JSON, not as too large)
    r = http.put("/api/v1/artifacts/shop-api@1.0.0/sbom", content=b"[" + b" " * (2 * MIB) + b"x")
    assert r.status_code in {400, 404} and r.json()["error"]["code"] != "TOO_LARGE", r.text


def test_every_api_route_caps_its_body(app: Any, ci_token: str) -> None:
    """Each operation of the API, offered a declared body one byte over the ordinary cap: 413 before
    any byte is read, except where BODY_LIMITS names another cap."""
    spec = json.loads(play(app, "GET", "/api/v1/openapi.json", 0, b"", {}).body)
    headers = {"authorization": f"Bearer {ci_token}", "content-length": str(API_BODY_BYTES + 1)}
    checked = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in {"post", "put", "patch", "delete"} or operation["operationId"] in BODY_LIMITS:
                continue
            concrete = path.replace("{ref}", "shop-api@1.0.0").replace("{", "x").replace("}", "")
            seen = play(app, method.upper(), concrete, 1, b"", headers)
            assert (seen.status, seen.pulled) == (413, 0), (method, path, seen.body)
            checked.add(operation["operationId"])
    assert {"publish", "create_token", "promote"} <= checked
