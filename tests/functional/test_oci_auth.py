"""The OCI authentication handshake, wired to the actor model: Basic, and the Bearer token flow."""

from __future__ import annotations

import base64
import re
import time

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain.errors import Unauthenticated
from hoist.domain.models import Actor
from hoist.http.tokens import TokenSigner
from tests.functional.oci_helpers import image_manifest, put_manifest

REPO = "dev/shop/api"


@pytest.fixture
def config_text() -> str:
    return '[server]\noci_auth = "required"\n'


def basic(user: str, password: str = "secret") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_unauthenticated_requests_are_challenged_the_way_clients_expect(http: httpx.Client) -> None:
    r = http.get("/v2/", headers={"X-Hoist-Actor": ""})
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert r.headers["www-authenticate"] == 'Bearer realm="http://hoist.test/v2/token",service="hoist"'
    pull = http.get(f"/v2/{REPO}/manifests/latest")
    assert pull.headers["www-authenticate"].endswith(f',scope="repository:{REPO}:pull"')
    push = http.post(f"/v2/{REPO}/blobs/uploads/")
    assert push.headers["www-authenticate"].endswith(f',scope="repository:{REPO}:pull,push"')
    token = http.get("/v2/token", params={"service": "hoist"})
    assert token.status_code == 401


def test_token_flow_then_bearer_requests_act_as_the_user(http: httpx.Client, client: HoistClient) -> None:
    scope = f"repository:{REPO}:pull,push"
    issued = http.get("/v2/token", params={"service": "hoist", "scope": scope}, headers=basic("alice"))
    assert issued.status_code == 200
    body = issued.json()
    assert body["token"] == body["access_token"] and body["expires_in"] == 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["issued_at"])
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert http.get("/v2/", headers=bearer).status_code == 200
    with httpx.Client(transport=http._transport, base_url="http://hoist.test", headers=bearer) as alice:
        raw = image_manifest(alice, REPO)
        assert put_manifest(alice, REPO, "1.0.0", raw).status_code == 201
    assert client.history("shop/api@1.0.0")[0]["actor"] == "alice"


def test_basic_credentials_work_directly(http: httpx.Client, client: HoistClient) -> None:
    with httpx.Client(transport=http._transport, base_url="http://hoist.test", headers=basic("bob")) as bob:
        put_manifest(bob, REPO, "2.0.0", image_manifest(bob, REPO))
    assert client.history("shop/api@2.0.0")[0]["actor"] == "bob"


def test_bad_tokens_and_schemes_are_refused(http: httpx.Client) -> None:
    for authorization in (
        "Bearer nonsense",
        "Bearer hoist1.e30.bad",
        "Digest abc",
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ):
        r = http.get("/v2/", headers={"Authorization": authorization})
        assert r.status_code == 401, authorization
    api = http.get("/api/v1/status", headers={"Authorization": "Bearer nonsense"})
    assert api.status_code == 401 and api.json()["error"]["code"] == "UNAUTHORIZED"


def test_tokens_are_signed_and_expire() -> None:
    signer = TokenSigner(b"0123456789abcdef0123456789abcdef", ttl=60)
    token, _issued = signer.issue(Actor("carol"), ("repository:dev/x:pull",), now=1000)
    grant = signer.verify(token, now=1030)
    assert (grant.actor.name, grant.scopes, grant.expires_at) == ("carol", ("repository:dev/x:pull",), 1060)
    with pytest.raises(Unauthenticated, match="expired"):
        signer.verify(token, now=1061)
    other = TokenSigner(b"another secret of thirty-two b!!")
    with pytest.raises(Unauthenticated, match="not one this server issued"):
        other.verify(token, now=1030)
    head, _body, sig = token.split(".")
    forged_body = base64.urlsafe_b64encode(b'{"sub":"admin"}').rstrip(b"=").decode()
    with pytest.raises(Unauthenticated):
        signer.verify(f"{head}.{forged_body}.{sig}", now=time.time())


def test_the_json_api_takes_bearer_tokens_too(http: httpx.Client) -> None:
    token = http.get("/v2/token", headers=basic("dave")).json()["token"]
    r = http.post("/api/v1/uploads", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 202
