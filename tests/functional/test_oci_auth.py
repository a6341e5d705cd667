"""The OCI authentication handshake on real principals: Basic, and the Bearer token flow with scopes."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain.access import Permission, Permissions, Right
from hoist.domain.errors import Unauthenticated
from hoist.domain.models import Actor
from hoist.http.tokens import TokenSigner
from tests.functional.oci_helpers import image_manifest, put_manifest

REPO = "dev/shop/api"
PASSWORD = "a long enough passphrase"


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def dana(client: HoistClient) -> str:
    """A developer with a password: reads and pushes in dev only."""
    client.create_user("dana", password=PASSWORD, grants=["role:developer"])
    return "dana"


def test_unauthenticated_requests_are_challenged_the_way_clients_expect(anonymous: httpx.Client) -> None:
    r = anonymous.get("/v2/")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert r.headers["www-authenticate"] == 'Bearer realm="http://hoist.test/v2/token",service="hoist"'
    pull = anonymous.get(f"/v2/{REPO}/manifests/latest")
    assert pull.status_code == 401 and pull.headers["www-authenticate"].endswith(f',scope="repository:{REPO}:pull"')
    push = anonymous.post(f"/v2/{REPO}/blobs/uploads/")
    assert push.status_code == 401
    assert push.headers["www-authenticate"].endswith(f',scope="repository:{REPO}:pull,push"')
    # an anonymous token grants nothing here (no registry allows anonymous reads by default)
    token = anonymous.get("/v2/token", params={"service": "hoist", "scope": f"repository:{REPO}:pull"})
    assert token.status_code == 200
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    assert anonymous.get(f"/v2/{REPO}/tags/list", headers=bearer).status_code == 401


def test_token_flow_then_bearer_requests_act_as_the_user(anonymous: httpx.Client, client: HoistClient, dana: str) -> None:
    scope = f"repository:{REPO}:pull,push"
    issued = anonymous.get("/v2/token", params={"service": "hoist", "scope": scope}, headers=basic(dana))
    assert issued.status_code == 200
    body = issued.json()
    assert body["token"] == body["access_token"] and body["expires_in"] == 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["issued_at"])
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert anonymous.get("/v2/", headers=bearer).status_code == 200
    with httpx.Client(transport=anonymous._transport, base_url="http://hoist.test", headers=bearer) as as_dana:
        raw = image_manifest(as_dana, REPO)
        assert put_manifest(as_dana, REPO, "1.0.0", raw).status_code == 201
        # the token carries dana's permissions: another dev repository reads, prod does not
        assert as_dana.get("/v2/dev/web/tags/list").status_code == 404  # readable, and empty
        prod = as_dana.get("/v2/prod/shop/api/tags/list")
        assert prod.status_code == 403 and prod.json()["errors"][0]["code"] == "DENIED"
    assert client.history("shop/api@1.0.0")[0]["actor"] == "dana"


def test_the_token_endpoint_grants_only_what_the_user_holds(anonymous: httpx.Client, dana: str) -> None:
    scopes = [f"repository:{REPO}:pull,push,delete", "repository:prod/shop/api:pull,push", "repository:dev/x:*"]
    token = anonymous.get("/v2/token", params={"scope": scopes}, headers=basic(dana)).json()["token"]
    signer_body = token.split(".")[1]
    payload = base64.urlsafe_b64decode(signer_body + "=" * (-len(signer_body) % 4))
    assert (
        b'"acc":["dev/shop/api:delete","dev/shop/api:pull","dev/shop/api:push","dev/x:delete","dev/x:pull","dev/x:push"]'
        in payload
    )
    bearer = {"Authorization": f"Bearer {token}"}
    denied = anonymous.get("/v2/prod/shop/api/tags/list", headers=bearer)
    assert denied.status_code == 403 and denied.json()["errors"][0]["code"] == "DENIED"


def test_basic_credentials_work_directly(anonymous: httpx.Client, client: HoistClient, dana: str) -> None:
    with httpx.Client(transport=anonymous._transport, base_url="http://hoist.test", headers=basic(dana)) as as_dana:
        put_manifest(as_dana, REPO, "2.0.0", image_manifest(as_dana, REPO))
    assert client.history("shop/api@2.0.0")[0]["actor"] == "dana"


def test_an_api_token_is_a_password_for_oci_clients(
    anonymous: httpx.Client, client: HoistClient, token_for: Callable[..., str]
) -> None:
    ci = token_for("ci-bot", ["role:ci"], robot=True)
    for user in ("ci-bot", "token"):
        issued = anonymous.get("/v2/token", params={"scope": f"repository:{REPO}:pull,push"}, headers=basic(user, ci))
        assert issued.status_code == 200, user
    wrong_owner = anonymous.get("/v2/token", headers=basic("alice", ci))
    assert wrong_owner.status_code == 401


def test_bad_tokens_and_schemes_are_refused(anonymous: httpx.Client) -> None:
    for authorization in (
        "Bearer nonsense",
        "Bearer hoist1.e30.bad",
        "Digest abc",
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"nobody:wrong password").decode(),
    ):
        r = anonymous.get("/v2/", headers={"Authorization": authorization})
        assert r.status_code == 401, authorization
        assert r.headers["www-authenticate"].startswith("Bearer realm="), authorization
    api = anonymous.get("/api/v1/status", headers={"Authorization": "Bearer nonsense"})
    assert api.status_code == 401 and api.json()["error"]["code"] == "UNAUTHORIZED"


def test_tokens_are_signed_and_expire() -> None:
    signer = TokenSigner(b"0123456789abcdef0123456789abcdef", ttl=60)
    held = Permissions(frozenset({Permission(Right.READ, "dev")}))
    token, _issued = signer.issue(Actor("carol", "user", True, None, held), frozenset({"dev/x:pull"}), now=1000)
    grant = signer.verify(token, now=1030)
    assert (grant.name, grant.access, grant.expires_at) == ("carol", frozenset({"dev/x:pull"}), 1060)
    assert grant.actor("10.0.0.1").may(Right.READ, "dev") and not grant.actor(None).may(Right.PUSH, "dev")
    with pytest.raises(Unauthenticated, match="expired"):
        signer.verify(token, now=1061)
    other = TokenSigner(b"another secret of thirty-two b!!")
    with pytest.raises(Unauthenticated, match="not one this server issued"):
        other.verify(token, now=1030)
    head, _body, sig = token.split(".")
    forged_body = base64.urlsafe_b64encode(b'{"sub":"admin","perm":["admin"]}').rstrip(b"=").decode()
    with pytest.raises(Unauthenticated):
        signer.verify(f"{head}.{forged_body}.{sig}", now=time.time())


def test_the_json_api_takes_oci_bearer_tokens_too(anonymous: httpx.Client, dana: str) -> None:
    token = anonymous.get("/v2/token", headers=basic(dana)).json()["token"]
    r = anonymous.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["name"] == "dana"
