"""Signatures: made by `hoist sign`, verified by the server on arrival, required by registry policy."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from hoist.cli.context import Cli
from hoist.cli.exits import REFUSED
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.attestations import IN_TOTO
from hoist.domain.digests import Digest
from hoist.signing import cosign
from hoist.signing import keys as k
from tests.functional.helpers import push
from tests.functional.oci_helpers import image_manifest, push_blob, put_manifest

REPO = "dev/shop/api"


@pytest.fixture
def release_key(tmp_path: Path) -> Path:
    key = k.generate()
    (tmp_path / "release.pub").write_bytes(k.public_pem(key))
    path = tmp_path / "release.key"
    path.write_bytes(k.private_pem(key))
    return path


@pytest.fixture
def config_text(tmp_path: Path, release_key: Path) -> str:
    return f"""
[keys]
release = "{tmp_path / "release.pub"}"

[registries.dev]
overwrite_snapshots = true
seal_on_promotion = false
movable_tags = true
allow_delete = true

[registries.prod]
direct_push = false
promote_from = ["dev"]
trusted_keys = ["release"]
require_signature = true
require_signature_to_pull = true

[environments.dev]
registry = "dev"
[environments.prod]
registry = "prod"

[ceilings]
snapshot = "dev"
rc = "dev"
release = "prod"
"""


def hoist(client: HoistClient, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)


def signatures(client: HoistClient, ref: str) -> list[dict[str, object]]:
    return [a for a in client.artifact(ref)["attachments"] if a["kind"] == "signature"]


def test_promotion_into_prod_needs_a_trusted_signature(http: httpx.Client, client: HoistClient, release_key: Path) -> None:
    put_manifest(http, REPO, "1.0.0", image_manifest(http, REPO))
    with pytest.raises(e.PromotionRefused) as info:
        client.promote("shop/api@1.0.0", to="prod")
    assert [p.gate for p in info.value.problems] == ["signature"]
    signed = hoist(client, "sign", "shop/api@1.0.0", "--key", str(release_key), "--json")
    assert signed.exit_code == 0, signed.output
    out = json.loads(signed.stdout)
    assert out["verified_by_server"] == ["release"] and out["written"][0].endswith(".sig")
    found = signatures(client, "shop/api@1.0.0")
    assert sorted((s["type"], s["result"], s["details"]["key"]) for s in found) == [  # type: ignore[index]
        ("cosign-simple-signing", "pass", "release"),
        ("sigstore-bundle", "pass", "release"),
    ]
    assert client.promote("shop/api@1.0.0", to="prod")["status"] == "promoted"
    # both signatures travel with the promoted copy: the .sig tag and the referrer
    digest = client.artifact("shop/api@1.0.0")["digest"]
    assert http.get(f"/v2/prod/shop/api/manifests/sha256-{digest.split(':')[1]}.sig").status_code == 200
    referrers = http.get(f"/v2/prod/shop/api/referrers/{digest}").json()["manifests"]
    assert sorted(r["artifactType"] for r in referrers) == sorted([cosign.BUNDLE_V03, IN_TOTO])  # + the promotion's VSA
    assert [ev["action"] for ev in client.history("shop/api@1.0.0")].count("artifact:sign") == 2


def test_a_signature_by_an_unknown_key_is_recorded_and_does_not_count(
    http: httpx.Client, client: HoistClient, tmp_path: Path
) -> None:
    put_manifest(http, REPO, "1.0.0", image_manifest(http, REPO))
    stranger = tmp_path / "stranger.key"
    stranger.write_bytes(k.private_pem(k.generate()))
    result = hoist(client, "sign", "shop/api@1.0.0", "--key", str(stranger))
    assert result.exit_code == 0 and "knows no key" in result.output
    assert {s["result"] for s in signatures(client, "shop/api@1.0.0")} == {"fail"}
    with pytest.raises(e.PromotionRefused, match="none by those keys"):
        client.promote("shop/api@1.0.0", to="prod")


def test_a_tampered_signature_fails_verification(http: httpx.Client, client: HoistClient, release_key: Path) -> None:
    raw = image_manifest(http, REPO)
    put_manifest(http, REPO, "1.0.0", raw)
    digest = str(Digest.of(raw))
    good = cosign.legacy_signature(k.load_private(release_key.read_bytes()), f"hoist.test/{REPO}", digest)
    for blob in good.blobs:
        push_blob(http, REPO, blob.data)
    forged = json.loads(good.manifest)
    annotations = forged["layers"][0]["annotations"]
    sig = bytearray(base64.b64decode(annotations[cosign.SIGNATURE_ANNOTATION]))
    sig[-1] ^= 1
    annotations[cosign.SIGNATURE_ANNOTATION] = base64.b64encode(bytes(sig)).decode()
    assert put_manifest(http, REPO, good.tag or "", json.dumps(forged).encode()).status_code == 201
    (found,) = signatures(client, "shop/api@1.0.0")
    assert found["result"] == "fail" and "no trusted key" in found["details"]["reason"]  # type: ignore[index]


def test_signing_again_does_not_duplicate_evidence(http: httpx.Client, client: HoistClient, release_key: Path) -> None:
    put_manifest(http, REPO, "1.0.0", image_manifest(http, REPO))
    hoist(client, "sign", "shop/api@1.0.0", "--key", str(release_key))
    first = len(signatures(client, "shop/api@1.0.0"))
    hoist(client, "sign", "shop/api@1.0.0", "--key", str(release_key))
    # ECDSA signatures are randomised: a second signing adds two new signatures, never re-counts old ones
    assert len(signatures(client, "shop/api@1.0.0")) == first + 2


def test_prod_serves_only_signed_artifacts_but_always_their_signatures(
    http: httpx.Client, client: HoistClient, release_key: Path, metadata: object
) -> None:
    put_manifest(http, REPO, "1.0.0", image_manifest(http, REPO))
    hoist(client, "sign", "shop/api@1.0.0", "--key", str(release_key))
    client.promote("shop/api@1.0.0", to="prod")
    assert http.get("/v2/prod/shop/api/manifests/1.0.0").status_code == 200
    digest = client.artifact("shop/api@1.0.0")["digest"]
    assert http.get(f"/v2/prod/shop/api/manifests/sha256-{digest.split(':')[1]}.sig").status_code == 200
    # an artifact whose only trusted signature disappears (e.g. a key revoked in the database) is not served
    from sqlalchemy import text

    with metadata.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("UPDATE attachments SET result = 'fail' WHERE kind = 'signature'"))
    denied = http.get("/v2/prod/shop/api/manifests/1.0.0")
    assert denied.status_code == 403 and "only signed artifacts" in denied.json()["errors"][0]["message"]


def test_generic_artifacts_are_signed_the_same_way(client: HoistClient, tmp_path: Path, release_key: Path) -> None:
    push(client, tmp_path, version="2.0.0")
    assert hoist(client, "sign", "shop-api@2.0.0", "--key", str(release_key)).exit_code == 0
    assert {s["result"] for s in signatures(client, "shop-api@2.0.0")} == {"pass"}
    assert client.promote("shop-api@2.0.0", to="prod")["status"] == "promoted"


def test_refusals_show_the_signature_gate_in_the_cli(http: httpx.Client, client: HoistClient) -> None:
    put_manifest(http, REPO, "1.0.0", image_manifest(http, REPO))
    result = hoist(client, "promote", "shop/api@1.0.0", "--to", "prod")
    assert result.exit_code == REFUSED and "✗ signature:" in result.output


def test_key_generate_writes_a_private_key_only_its_owner_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "correct horse")
    prefix = str(tmp_path / "ci")
    result = CliRunner().invoke(cli, ["key", "generate", "-o", prefix, "--format", "cosign", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["encrypted"] and out["format"] == "cosign"
    private = Path(prefix + ".key")
    assert oct(os.stat(private).st_mode & 0o777) == "0o600"
    key = k.load_private(private.read_bytes(), b"correct horse")
    assert k.key_id(key.public_key()) == out["key_id"] == k.key_id(k.load_public(Path(prefix + ".pub").read_bytes()))
    again = CliRunner().invoke(cli, ["key", "generate", "-o", prefix])
    assert again.exit_code == 2 and "exists" in again.output
