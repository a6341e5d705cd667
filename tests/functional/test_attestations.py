"""`hoist attest`, `hoist approve` and a push from CI leave in-toto statements in DSSE envelopes
signed by the server: test results, approvals and SLSA provenance, verifiable offline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

from hoist.client import HoistClient
from hoist.domain import attestations as a
from hoist.domain.digests import Digest
from hoist.domain.models import Pipeline
from hoist.signing import dsse
from hoist.signing import keys as k
from tests.functional.helpers import push

JUNIT = b'<testsuite><testcase classname="t" name="a"/><testcase classname="t" name="b"><failure/></testcase></testsuite>'


def statements(http: httpx.Client, client: HoistClient, registry: str, digest: str) -> dict[str, list[dsse.Opened]]:
    """Every in-toto statement attached to ``digest`` in ``registry``, opened with the server's key."""
    keyring = {"server": k.load_public(client.keys()["server"]["public_key"].encode())}
    listed = http.get(f"/v2/{registry}/shop-api/referrers/{digest}", params={"artifactType": a.IN_TOTO}).json()
    found: dict[str, list[dsse.Opened]] = {}
    for descriptor in listed["manifests"]:
        (layer,) = json.loads(http.get(f"/v2/{registry}/shop-api/manifests/{descriptor['digest']}").content)["layers"]
        opened = dsse.open_envelope(http.get(f"/v2/{registry}/shop-api/blobs/{layer['digest']}").content, keyring)
        assert opened.problem is None and opened.subjects == [digest]
        found.setdefault(str(opened.predicate_type), []).append(opened)
    return found


def test_a_junit_attestation_is_a_signed_test_result(http: httpx.Client, client: HoistClient, tmp_path: Path) -> None:
    digest = push(client, tmp_path, version="1.0.0")["artifact"]["digest"]
    client.attest("shop-api@1.0.0", type="unit-tests", junit=JUNIT.decode())
    (result,) = statements(http, client, "dev", digest)[a.TEST_RESULT]
    predicate = result.predicate
    assert predicate["result"] == "FAILED" and predicate["failedTests"] == ["t.b"]
    assert predicate["configuration"] == [{"name": "junit.xml", "digest": {"sha256": Digest.of(JUNIT).hex}}]
    assert predicate["hoist"] == {
        "type": "unit-tests",
        "environment": None,
        "counts": {"tests": 2, "failures": 1, "errors": 0, "skipped": 0},
        "actor": "alice",
    }
    recorded = next(x for x in client.artifact("shop-api@1.0.0")["attachments"] if x["type"] == "unit-tests")
    assert recorded["result"] == "fail" and recorded["details"]["envelope"].startswith("sha256:")


def test_an_approval_is_signed_and_names_the_evidence_it_reviewed(
    http: httpx.Client, client: HoistClient, client_as: Callable[[str], HoistClient], tmp_path: Path
) -> None:
    digest = push(client, tmp_path, version="1.0.0")["artifact"]["digest"]
    client.attest("shop-api@1.0.0", type="unit-tests", result="pass")
    client_as("bob").approve("shop-api@1.0.0", environment="prod", comment="CHG-123")
    found = statements(http, client, "dev", digest)
    (approval,) = found[a.APPROVAL]
    (tested,) = found[a.TEST_RESULT]
    p = approval.predicate
    assert (p["approver"], p["decision"], p["toEnvironment"], p["comment"], p["counts"]) == (
        {"id": "bob"},
        "APPROVED",
        "prod",
        "CHG-123",
        True,
    )
    envelope = next(x for x in client.artifact("shop-api@1.0.0")["attachments"] if x["type"] == "unit-tests")
    assert [r["digest"] for r in p["reviewedAttestations"]] == [{"sha256": envelope["details"]["envelope"].split(":")[1]}]
    assert tested.predicate["result"] == "PASSED"


def test_a_push_from_ci_carries_slsa_provenance(http: httpx.Client, tmp_path: Path) -> None:
    ci = Pipeline(
        provider="github-actions",
        id="4242",
        url="https://github.com/acme/shop/actions/runs/4242",
        project="acme/shop",
        commit="4f2a9c1e",
        ref="refs/heads/main",
    )
    builder = HoistClient("http://hoist.test", actor="ci-bot", http=http, pipeline=ci)
    digest = push(builder, tmp_path, version="1.0.0")["artifact"]["digest"]
    (provenance,) = statements(http, builder, "dev", digest)[a.PROVENANCE]
    p = provenance.predicate
    assert p["buildDefinition"]["buildType"] == a.BUILD_TYPE
    assert p["buildDefinition"]["resolvedDependencies"] == [
        {"uri": "git+acme/shop@refs/heads/main", "digest": {"gitCommit": "4f2a9c1e"}}
    ]
    assert p["runDetails"]["builder"]["id"] == "https://github.com/actions/runner"
    assert p["runDetails"]["metadata"]["invocationId"] == ci.url
    kinds = [x["type"] for x in builder.artifact("shop-api@1.0.0")["attachments"]]
    assert kinds == ["slsa-provenance"]


def test_a_push_without_ci_claims_no_provenance(http: httpx.Client, client: HoistClient, tmp_path: Path) -> None:
    digest = push(client, tmp_path, version="1.0.0")["artifact"]["digest"]
    assert statements(http, client, "dev", digest) == {}
