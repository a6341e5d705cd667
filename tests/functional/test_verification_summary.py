"""Every promotion leaves a SLSA verification summary signed by the server's key, attached to the
artifact in the target registry: anyone holding the server's public key can check it offline."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable
from pathlib import Path

import httpx

from hoist.app import Services
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain import attestations as a
from hoist.domain.models import Pipeline
from hoist.signing import dsse
from hoist.signing import keys as k
from hoist.signing.server import ServerSigner
from tests.functional.helpers import push


def _summary(http: httpx.Client, registry: str, package: str, digest: str) -> tuple[dict[str, object], bytes]:
    listed = http.get(f"/v2/{registry}/{package}/referrers/{digest}", params={"artifactType": a.IN_TOTO}).json()
    (descriptor,) = [m for m in listed["manifests"] if m["annotations"]["dev.hoist.predicateType"] == a.VSA]
    manifest = json.loads(http.get(f"/v2/{registry}/{package}/manifests/{descriptor['digest']}").content)
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == a.DSSE_LAYER and layer["annotations"]["predicateType"] == a.VSA
    return manifest, http.get(f"/v2/{registry}/{package}/blobs/{layer['digest']}").content


def test_a_promotion_signs_a_verification_summary_anyone_can_verify(
    http: httpx.Client,
    client: HoistClient,
    client_as: Callable[[str], HoistClient],
    tmp_path: Path,
    settings: Settings,
    token_for: Callable[[str], str],
) -> None:
    digest = push(client, tmp_path, version="2.0.0")["artifact"]["digest"]
    client.attest("shop-api@2.0.0", type="unit-tests", result="pass")
    client.attest("shop-api@2.0.0", type="acceptance", result="pass", environment="preprod")
    client_as("bob").approve("shop-api@2.0.0", environment="prod")
    ci = Pipeline(provider="github-actions", id="981", commit="4f2a9c1", project="acme/shop")
    promoter = HoistClient("http://hoist.test", token=token_for("carol"), http=http, pipeline=ci)
    promoter.promote("shop-api@2.0.0", to="prod", reason="release 2.0")

    manifest, envelope = _summary(http, "prod", "shop-api", digest)
    assert manifest["subject"]["digest"] == digest  # type: ignore[index]
    server = client.keys()["server"]
    opened = dsse.open_envelope(envelope, {"server": k.load_public(server["public_key"].encode())})
    assert opened.problem is None and opened.key == "server"
    assert opened.payload_type == a.IN_TOTO and opened.predicate_type == a.VSA
    assert opened.subjects == [digest] and opened.statement["subject"][0]["name"] == "prod/shop-api"
    vsa = opened.predicate
    assert vsa["verificationResult"] == "PASSED" and vsa["verifiedLevels"] == ["HOIST_PROMOTED_PROD"]
    assert vsa["resourceUri"] == f"oci://prod/shop-api@{digest}"
    assert vsa["policy"]["digest"] == {"sha256": a.policy_digest(settings.policy).hex}
    decision = vsa["hoist"]
    assert [decision[f] for f in ("from", "to", "actor", "reason")] == ["dev", "prod", "carol", "release 2.0"]
    assert decision["gates"] == ["source", "ceiling", "attestation:unit-tests"]
    assert decision["approvers"] == ["bob@prod"]
    assert decision["pipeline"] == ci.as_dict()
    assert decision["server_key"] == server["key_id"]
    assert len(vsa["inputAttestations"]) == 3  # two test results, one approval

    tampered = json.loads(envelope)
    statement = json.loads(base64.b64decode(tampered["payload"]))
    statement["predicate"]["hoist"]["approvers"] = ["mallory@prod"]
    tampered["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    forged = dsse.open_envelope(json.dumps(tampered).encode(), {"server": k.load_public(server["public_key"].encode())})
    assert forged.key is None and forged.problem == "no trusted key verifies this envelope"

    recorded = [x for x in client.artifact("shop-api@2.0.0")["attachments"] if x["type"] == "verification-summary"]
    assert [(x["kind"], x["result"], x["details"]["to"]) for x in recorded] == [("attestation", "pass", "prod")]
    event = client.history("shop-api@2.0.0")[-1]
    assert event["action"] == "artifact:promote" and event["details"]["summary"] == recorded[0]["details"]["manifest"]


def test_a_repeated_promotion_signs_nothing_new(http: httpx.Client, client: HoistClient, tmp_path: Path) -> None:
    digest = push(client, tmp_path, version="2.0.0")["artifact"]["digest"]
    client.attest("shop-api@2.0.0", type="unit-tests", result="pass")
    client.promote("shop-api@2.0.0", to="prod")
    assert client.promote("shop-api@2.0.0", to="prod")["status"] == "already-promoted"
    _summary(http, "prod", "shop-api", digest)  # exactly one


def test_the_server_key_is_made_once_private_and_shared_by_workers(settings: Settings, services: Services) -> None:
    path = settings.data_dir / "server.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ServerSigner.load_or_create(path)  # a second worker process
    assert again.key_id == services.signer.key_id
    signature = again.sign(b"data")
    assert k.verify(k.load_public(services.signer.public_pem), b"data", signature)
