"""The npm endpoints that hold no package: ping, whoami, login, audit, and npm's error shape."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from hoist.app import Services
from hoist.client import HoistClient
from tests.asgi import SyncASGITransport
from tests.conftest import ADMIN
from tests.functional.npm_helpers import npm_clients

PAD_ADVISORY = {
    "id": "GHSA-pad0-0000-0001",
    "modified": "2026-01-01T00:00:00Z",
    "summary": "left-pad pads with the wrong character",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"}],
    "database_specific": {"cwe_ids": ["CWE-20"], "severity": "HIGH"},
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "left-pad"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}],
        },
        {"package": {"ecosystem": "npm", "name": "@acme/ui"}, "versions": ["2.0.0"]},
        {"package": {"ecosystem": "PyPI", "name": "left-pad"}, "versions": ["1.0.0"]},
    ],
}


@pytest.fixture
def npm_as(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[Callable[..., httpx.Client]]:
    yield from npm_clients(transport, token_for)


def test_ping_and_whoami(npm_as: Callable[..., httpx.Client], anonymous: httpx.Client) -> None:
    ci = npm_as("build-bot")
    assert ci.get("-/ping").json() == {}
    assert ci.get("-/whoami").json() == {"username": "build-bot"}
    refused = anonymous.get("/npm/dev/-/whoami")
    assert refused.status_code == 401 and "not logged in" in refused.json()["error"]


def test_unknown_registries_and_endpoints_answer_in_npms_shape(npm_as: Callable[..., httpx.Client]) -> None:
    ci = npm_as("build-bot")
    unknown = ci.get("http://hoist.test/npm/nowhere/-/ping")
    assert unknown.status_code == 404 and "unknown registry 'nowhere'" in unknown.json()["error"]
    for method, path in (("GET", "-/nothing"), ("POST", "-/v1/login"), ("POST", "-/npm/v1/security/audits/quick")):
        answer = ci.request(method, path)
        # old npm asks audits/quick first and falls back on a 404; npm 11 falls back from web login on one
        assert answer.status_code == 404 and set(answer.json()) == {"error"}, answer.text
    bad = ci.get("Left-Pad")
    assert bad.status_code == 400 and "npm names are lowercase" in bad.json()["error"]


def test_audit_answers_from_imported_advisories_only_for_affected_versions(
    npm_as: Callable[..., httpx.Client], client: HoistClient
) -> None:
    client.import_advisories(json.dumps(PAD_ADVISORY).encode(), filename="pad.json")
    ci = npm_as("build-bot")
    asked = {"left-pad": ["1.2.0", "1.3.0"], "@acme/ui": ["2.0.0"], "unrelated": ["1.0.0"]}
    answer = ci.post(
        "-/npm/v1/security/advisories/bulk",
        content=gzip.compress(json.dumps(asked).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert set(found) == {"left-pad", "@acme/ui"}
    (pad,) = found["left-pad"]
    assert pad == {
        "id": "GHSA-pad0-0000-0001",
        "url": "https://osv.dev/vulnerability/GHSA-pad0-0000-0001",
        "title": "left-pad pads with the wrong character",
        "severity": "high",
        "vulnerable_versions": "<1.3.0",
        "cwe": ["CWE-20"],
        "cvss": {"score": pad["cvss"]["score"], "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"},
    }
    assert pad["cvss"]["score"] > 0
    assert found["@acme/ui"][0]["vulnerable_versions"] == "2.0.0"
    fixed_only = ci.post("-/npm/v1/security/advisories/bulk", json={"left-pad": ["1.3.0"], "@acme/ui": ["2.0.1"]})
    assert fixed_only.json() == {}


def test_audit_needs_read_on_the_registry_and_refuses_bad_bodies(npm_as: Callable[..., httpx.Client]) -> None:
    outsider = npm_as("outsider", ())
    denied = outsider.post("-/npm/v1/security/advisories/bulk", json={"left-pad": ["1.0.0"]})
    assert denied.status_code == 403 and "read:dev" in denied.json()["error"]
    ci = npm_as("build-bot")
    for body, message in ((b"[1]", "not a JSON object"), (b'{"a": [1]}', "version strings"), (b"{", "not JSON")):
        refused = ci.post("-/npm/v1/security/advisories/bulk", content=body)
        assert refused.status_code == 400 and message in refused.json()["error"], refused.text


def test_npm_login_trades_a_password_for_a_token_and_creates_nobody(
    services: Services, anonymous: httpx.Client, client: HoistClient
) -> None:
    services.administration.create_user(ADMIN, "erin", password="correct horse battery", grants=["role:developer"])
    login = "/npm/dev/-/user/org.couchdb.user:"
    body = {"_id": "org.couchdb.user:erin", "name": "erin", "password": "correct horse battery", "type": "user"}
    answer = anonymous.put(login + "erin", json=body)
    assert answer.status_code == 201, answer.text
    token = answer.json()["token"]
    me = anonymous.get("/npm/dev/-/whoami", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"username": "erin"}
    # npm's _auth (Basic) maps to the same principal, with the password or with a token
    for secret in ("correct horse battery", token):
        basic = anonymous.get("/npm/dev/-/whoami", auth=("erin", secret))
        assert basic.json() == {"username": "erin"}, basic.text

    wrong = anonymous.put(login + "erin", json={**body, "password": "wrong"})
    assert wrong.status_code == 401 and set(wrong.json()) == {"error"}
    nobody = anonymous.put(login + "nobody", json={**body, "name": "nobody"})
    assert nobody.status_code == 401
    assert "nobody" not in {u["name"] for u in client.users()}
    failures = [e for e in map(json.loads, client.export_lines()) if e["action"] == "auth:failed"]
    assert {e["actor"] for e in failures} >= {"erin", "nobody"}
    mismatch = anonymous.put(login + "erin", json={**body, "name": "other"})
    assert mismatch.status_code == 400 and "the URL" in mismatch.json()["error"]
    # only the login takes a change from nobody: anything else is refused before its body is read
    refused = anonymous.put("/npm/dev/left-pad", content=b"{}")
    assert refused.status_code == 401 and "npm login" in refused.json()["error"]
