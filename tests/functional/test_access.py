"""Principals and credentials: bootstrap, tokens (scope, expiry, revocation), passwords and their
throttle, teams, four-eyes, constant-time comparisons, and no secret anywhere it could leak."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hoist.app import Services, build_services
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain import errors as e
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.helpers import Clock, push, row_counts

PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def events(client: HoistClient, action: str) -> list[dict[str, object]]:
    return [ev for ev in map(json.loads, client.export_lines()) if ev["action"] == action]


def test_the_first_serve_makes_one_administrator_and_only_once(services: Services, anonymous: httpx.Client) -> None:
    token = services.authentication.bootstrap()
    assert token is not None and token.startswith("hoist_") and len(token) > 40
    assert services.authentication.bootstrap() is None  # principals exist: nothing is made again
    me = anonymous.get("/api/v1/whoami", headers=bearer(token)).json()
    assert me["name"] == "admin" and me["permissions"][0] == "admin"
    with pytest.raises(e.InvalidInput, match="HOIST_ADMIN_TOKEN must start with 'hoist_'"):
        services.authentication.bootstrap("short")


def test_tokens_are_shown_once_stored_hashed_and_carry_a_scope(
    client: HoistClient, anonymous: httpx.Client, metadata: SqlMetadataStore
) -> None:
    client.create_user("carol", grants=["role:developer", "role:operator"])
    made = client.create_token(owner="carol", description="deploys only", scope=["deploy@prod"])
    assert made["scope"] == ["deploy@prod"] and "token" in made
    with metadata.engine.connect() as conn:
        stored = conn.execute(text("SELECT secret_hash FROM tokens WHERE id = :id"), {"id": made["id"]}).scalar_one()
    assert made["token"] not in stored and len(stored) == 64  # a sha256, never the token
    assert all("token" not in t for t in client.tokens(owner="carol"))
    me = anonymous.get("/api/v1/whoami", headers=bearer(made["token"])).json()
    assert me["permissions"] == ["deploy@prod"] and me["credential"] == f"token:{made['id']}"
    # narrowed to its scope: carol herself may push into dev, this token may not
    push_with_it = anonymous.post("/v2/dev/x/blobs/uploads/", headers=bearer(made["token"]))
    assert push_with_it.status_code == 403
    # and a token made with a scoped token is never wider than it
    wider = anonymous.post("/api/v1/tokens", json={"description": "escalate"}, headers=bearer(made["token"]))
    assert wider.status_code == 201 and wider.json()["scope"] == ["deploy@prod"]
    outside = anonymous.post("/api/v1/tokens", json={"scope": ["admin"]}, headers=bearer(made["token"]))
    assert outside.status_code == 400


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(settings: Settings, metadata: SqlMetadataStore, blobs: FilesystemBlobStore, clock: Clock) -> Services:
    return build_services(settings, metadata, blobs, clock)


def test_an_expired_or_revoked_token_or_a_disabled_owner_is_refused_at_once(
    client: HoistClient, anonymous: httpx.Client, clock: Clock
) -> None:
    client.create_user("dave", grants=["role:viewer"])
    expiring = client.create_token(owner="dave", expires_in_days=1)
    revoked = client.create_token(owner="dave", expires_in_days=None)
    kept = client.create_token(owner="dave")
    for t in (expiring, revoked, kept):
        assert anonymous.get("/api/v1/whoami", headers=bearer(t["token"])).status_code == 200
    clock.advance(days=1.01)
    client.revoke_token(revoked["id"])
    assert (
        anonymous.get("/api/v1/whoami", headers=bearer(expiring["token"])).json()["error"]["message"].endswith("is expired")
    )
    assert anonymous.get("/api/v1/whoami", headers=bearer(revoked["token"])).status_code == 401
    assert anonymous.get("/v2/dev/x/tags/list", headers=basic("dave", revoked["token"])).status_code == 401
    assert anonymous.get("/api/v1/whoami", headers=bearer(kept["token"])).status_code == 200
    client.set_disabled("dave", True)
    assert anonymous.get("/api/v1/whoami", headers=bearer(kept["token"])).status_code == 401
    states = {t["id"]: t["state"] for t in client.tokens(owner="dave")}
    assert (states[expiring["id"]], states[revoked["id"]], states[kept["id"]]) == ("expired", "revoked", "active")
    reasons = [ev["details"]["reason"] for ev in events(client, "auth:failed")]  # type: ignore[index]
    assert {"expired token", "revoked token", "owner disabled"} <= set(reasons)


def test_failed_password_logins_are_audited_and_throttled(client: HoistClient, anonymous: httpx.Client) -> None:
    client.create_user("erin", password=PASSWORD, grants=["role:viewer"])
    assert anonymous.get("/v2/token", headers=basic("erin", PASSWORD)).status_code == 200
    for _ in range(5):
        assert anonymous.get("/v2/token", headers=basic("erin", "guess")).status_code == 401
    throttled = anonymous.get("/v2/token", headers=basic("erin", PASSWORD))  # even the right one, for a while
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    failures = events(client, "auth:failed")
    assert [f["details"]["reason"] for f in failures] == ["wrong password"] * 5 + ["throttled after repeated failures"]  # type: ignore[index]
    assert {f["actor"] for f in failures} == {"erin"}
    assert all(f["details"]["source"] for f in failures)  # type: ignore[index]
    # another name from the same address is not locked out by erin's failures (until that address
    # itself fails too often)
    unknown = anonymous.get("/api/v1/whoami", headers=basic("nobody", "x" * 20))
    assert unknown.status_code == 401 and unknown.json()["error"]["message"] == "these credentials are not valid"


def test_every_denial_is_audited_with_who_asked_from_where(
    client: HoistClient, client_as: Callable[..., HoistClient], anonymous: httpx.Client, tmp_path: Path
) -> None:
    push(client, tmp_path)
    dana = client_as("dana", ["role:developer"])
    with pytest.raises(e.Denied, match=re.escape("dana may not promote shop-api@1.4.0 into prod: that needs promote:prod")):
        dana.promote("shop-api@1.4.0", to="prod")
    assert anonymous.get("/v2/dev/shop-api/tags/list").status_code == 401
    denials = events(client, "access:denied")
    assert [(d["actor"], d["subject"]) for d in denials] == [("dana", "shop-api@1.4.0"), ("anonymous", "dev/shop-api")]
    first = denials[0]["details"]
    assert first["needs"] == ["promote:prod"] and first["credential"].startswith("token:")  # type: ignore[index]
    assert first["asked"] == "promote shop-api@1.4.0 into prod"  # type: ignore[index]


def test_four_eyes_neither_the_pusher_nor_the_promoter_approves(
    client: HoistClient, client_as: Callable[..., HoistClient], tmp_path: Path
) -> None:
    push(client, tmp_path)  # alice pushes
    client.attest("shop-api@1.4.0", type="unit-tests", result="pass")
    releaser = client_as("rita", ["role:release", "role:approver"])
    releaser.promote("shop-api@1.4.0", to="prod")
    client.attest("shop-api@1.4.0", type="acceptance", result="pass", environment="preprod")
    for env in ("dev", "uat", "preprod"):
        client.deploy("shop-api@1.4.0", environment=env)
    assert releaser.approve("shop-api@1.4.0", environment="prod")["counts"] is False
    assert client.approve("shop-api@1.4.0", environment="prod")["counts"] is False
    with pytest.raises(e.DeploymentRefused) as refused:
        client.deploy("shop-api@1.4.0", environment="prod")
    assert "other than the pusher (alice) and the promoter (rita)" in str(refused.value.problems)
    client_as("ana", ["role:approver"]).approve("shop-api@1.4.0", environment="prod")
    assert client.deploy("shop-api@1.4.0", environment="prod")["status"] == "succeeded"


def test_teams_grant_their_members_and_stop_when_left(client: HoistClient, anonymous: httpx.Client) -> None:
    client.create_user("finn", grants=[])
    token = client.create_token(owner="finn")["token"]
    assert anonymous.get("/v2/dev/x/tags/list", headers=bearer(token)).status_code == 403
    client.create_team("releasers", grants=["role:release"])
    client.add_member("releasers", "finn")
    assert anonymous.get("/v2/prod/x/tags/list", headers=bearer(token)).status_code == 404  # readable now
    assert "promote:prod" in anonymous.get("/api/v1/whoami", headers=bearer(token)).json()["permissions"]
    client.remove_member("releasers", "finn")
    assert anonymous.get("/v2/prod/x/tags/list", headers=bearer(token)).status_code == 403
    with pytest.raises(e.InvalidInput, match="unknown registry 'qa'"):
        client.grant("team:releasers", "push:qa")
    with pytest.raises(e.InvalidInput, match="unknown role"):
        client.grant("user:finn", "role:superuser")


def test_bad_principal_input_changes_nothing(client: HoistClient, metadata: SqlMetadataStore) -> None:
    before = row_counts(metadata)
    for bad in ("../etc", "Alice", "a" * 65, "anonymous", ""):
        with pytest.raises(e.InvalidInput):
            client.create_user(bad)
    with pytest.raises(e.InvalidInput, match="at least 12 characters"):
        client.create_user("gina", password="short")
    with pytest.raises(e.InvalidInput, match="robot"):
        client.create_user("bot", robot=True, password=PASSWORD)
    with pytest.raises(e.InvalidInput, match="invalid permission"):
        client.create_user("gina", grants=["fly:dev"])
    with pytest.raises(e.NotFound):
        client.add_member("no-team", "alice")
    assert row_counts(metadata) == before


def test_secrets_are_compared_in_constant_time(
    client: HoistClient, anonymous: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hoist.http.tokens
    import hoist.services.authentication

    compared: list[int] = []
    original = hmac.compare_digest

    def counting(a: bytes | str, b: bytes | str) -> bool:
        compared.append(1)
        return original(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(hoist.services.authentication.hmac, "compare_digest", counting)
    client.create_user("hank", password=PASSWORD, grants=["role:viewer"])
    token = client.create_token(owner="hank")["token"]
    compared.clear()
    assert anonymous.get("/api/v1/whoami", headers=bearer(token)).status_code == 200
    assert len(compared) == 1  # the API token's hash
    oci = anonymous.get("/v2/token", headers=basic("hank", PASSWORD)).json()["token"]
    compared.clear()
    assert anonymous.get("/v2/dev/x/tags/list", headers=bearer(oci)).status_code == 404
    assert len(compared) == 1  # the OCI token's signature (passwords: argon2's own constant-time verify)


def test_no_secret_reaches_a_log_line_an_error_or_the_audit_trail(
    client: HoistClient, anonymous: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [PASSWORD, "wrong password 123", "hoist_not-a-real-token-but-long-enough-to-look-real"]
    client.create_user("ivy", password=PASSWORD, grants=["role:developer"])
    made = client.create_token(owner="ivy")
    secrets.append(made["token"])
    answers = [
        anonymous.get("/api/v1/whoami", headers=basic("ivy", PASSWORD)),
        anonymous.get("/api/v1/whoami", headers=basic("ivy", secrets[1])),
        anonymous.get("/api/v1/whoami", headers=bearer(secrets[2])),
        anonymous.get("/v2/token", headers=basic("ivy", secrets[2])),
        anonymous.get("/v2/token", headers=basic("admin", made["token"])),  # a token under the wrong name
        anonymous.post("/api/v1/promotions", json={"ref": "x@1.0.0", "to": "prod"}, headers=bearer(made["token"])),
        anonymous.put(
            "/api/v1/users/ivy/password",
            json={"password": "new " + PASSWORD, "current": secrets[1]},
            headers=bearer(made["token"]),
        ),
    ]
    seen = "\n".join(
        [caplog.text, *(r.text for r in answers), *(str(dict(r.headers)) for r in answers), *client.export_lines()]
    )
    for secret in secrets:
        assert secret not in seen
    assert [r.status_code for r in answers] == [200, 401, 401, 401, 401, 403, 401]


def test_knowing_a_digest_is_not_a_right_to_its_bytes(
    client: HoistClient, http: httpx.Client, anonymous: httpx.Client, token_for: Callable[..., str], tmp_path: Path
) -> None:
    """A blob only prod holds: a developer (no read on prod) can neither download it by digest nor
    name it in a manifest or an artifact of their own to pull it through dev."""
    from tests.functional.oci_helpers import push_blob

    secret = push_blob(http, "prod/secret/base", b"bytes only prod readers may have")
    dana = bearer(token_for("dana", ["role:developer"]))
    assert http.get(f"/api/v1/blobs/{secret['digest']}").status_code == 200  # alice reads prod
    refused = anonymous.get(f"/api/v1/blobs/{secret['digest']}", headers=dana)
    assert refused.status_code == 403 and secret["digest"] not in refused.text.replace(f"read blob {secret['digest']}", "")
    config = push_blob(http, "dev/dana/app", b'{"architecture": "amd64", "os": "linux"}')
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **secret}],
        }
    ).encode()
    headers = {**dana, "Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    sneaky = anonymous.put("/v2/dev/dana/app/manifests/1.0.0", content=manifest, headers=headers)
    assert sneaky.status_code == 400 and sneaky.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
    files = [{"name": "base.bin", **secret}]
    generic = anonymous.post(
        "/api/v1/artifacts", json={"package": "dana-app", "version": "1.0.0", "files": files}, headers=dana
    )
    assert generic.status_code == 404 and generic.json()["error"]["code"] == "BLOB_UNKNOWN"
    assert (
        anonymous.put(
            "/v2/dev/alice/app/manifests/1.0.0",
            content=manifest,
            headers={**dict(http.headers), "Content-Type": headers["Content-Type"]},
        ).status_code
        == 201
    )


def test_a_token_scope_the_owner_does_not_hold_is_refused_naming_it(
    client: HoistClient, anonymous: httpx.Client, metadata: SqlMetadataStore
) -> None:
    client.create_user("kim", grants=["role:developer"])
    kim = client.create_token(owner="kim")["token"]
    before = row_counts(metadata)
    refused = anonymous.post("/api/v1/tokens", json={"scope": ["admin", "push:prod", "push:dev"]}, headers=bearer(kim))
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "DENIED" and error["details"]["needs"] == ["admin", "push:prod"]
    assert "kim does not hold admin, push:prod" in error["message"]
    # an administrator cannot hand kim a token wider than kim either
    with pytest.raises(e.Denied, match="kim does not hold role:release"):
        client.create_token(owner="kim", scope=["role:release"])
    denials = events(client, "access:denied")
    assert [(d["actor"], d["details"]["needs"]) for d in denials] == [  # type: ignore[index]
        ("kim", ["admin", "push:prod"]),
        ("alice", ["deploy@preprod", "promote:*", "read:*"]),
    ]
    counts = row_counts(metadata)
    assert counts["tokens"] == before["tokens"] and counts["audit_events"] == before["audit_events"] + 2
    held = anonymous.post("/api/v1/tokens", json={"scope": ["push:dev", "role:ci"]}, headers=bearer(kim))
    assert held.status_code == 201 and held.json()["scope"] == ["push:dev", "role:ci"]


def test_a_token_as_password_goes_with_its_owner_token_or_pypis_token_name(
    services: Services, token_for: Callable[..., str]
) -> None:
    """twine and pip send an API token with the username ``__token__`` (the PyPI convention);
    docker login sends the owner's name or ``token``. Any other name is refused."""
    secret = token_for("dana", ["role:developer"])
    for username in ("dana", "token", "__token__"):
        assert services.authentication.authenticate(username, secret, None).name == "dana"
    with pytest.raises(e.Unauthenticated, match="does not belong"):
        services.authentication.authenticate("erin", secret, None)
