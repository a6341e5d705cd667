"""`hoist attest`, `hoist approve` and a push from CI leave in-toto statements in DSSE envelopes
signed by the server: test results, approvals and SLSA provenance, verifiable offline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoist.cli.context import Cli
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.domain import attestations as a
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.domain.models import Pipeline
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.signing import dsse
from hoist.signing import keys as k
from tests.functional.helpers import push, row_counts

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


def test_a_push_from_ci_carries_slsa_provenance(http: httpx.Client, tmp_path: Path, token_for: Callable[[str], str]) -> None:
    ci = Pipeline(
        provider="github-actions",
        id="4242",
        url="https://github.com/acme/shop/actions/runs/4242",
        project="acme/shop",
        commit="4f2a9c1e",
        ref="refs/heads/main",
    )
    builder = HoistClient("http://hoist.test", token=token_for("ci-bot"), http=http, pipeline=ci)
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


class TestApprovalsSignedByTheApprover:
    @pytest.fixture
    def bob_key(self, tmp_path: Path) -> Path:
        key = k.generate()
        (tmp_path / "bob.pub").write_bytes(k.public_pem(key))
        path = tmp_path / "bob.key"
        path.write_bytes(k.private_pem(key))
        return path

    @pytest.fixture
    def config_text(self, tmp_path: Path, bob_key: Path) -> str:
        return f'[keys]\nbob = "{tmp_path / "bob.pub"}"\n'

    def test_an_approval_signed_with_the_approvers_key_is_kept_as_signed(
        self, http: httpx.Client, client: HoistClient, client_as: Callable[[str], HoistClient], tmp_path: Path, bob_key: Path
    ) -> None:
        digest = push(client, tmp_path, version="1.0.0")["artifact"]["digest"]
        bob = client_as("bob")
        out = CliRunner().invoke(
            cli,
            ["approve", "shop-api@1.0.0", "--env", "prod", "--key", str(bob_key), "--comment", "CHG-9"],
            obj=Cli(_client=bob, progress=False),
            catch_exceptions=False,
        )
        assert out.exit_code == 0, out.output
        recorded = next(x for x in client.artifact("shop-api@1.0.0")["attachments"] if x["kind"] == "approval")
        assert recorded["details"]["signed_by"] == "bob"
        bobs = {"bob": k.load_public((tmp_path / "bob.pub").read_bytes())}
        (layer,) = json.loads(http.get(f"/v2/dev/shop-api/manifests/{recorded['details']['manifest']}").content)["layers"]
        opened = dsse.open_envelope(http.get(f"/v2/dev/shop-api/blobs/{layer['digest']}").content, bobs)
        assert opened.key == "bob" and opened.subjects == [digest]  # bob's signature, not the server's
        assert opened.predicate["approver"] == {"id": "bob"} and opened.predicate["comment"] == "CHG-9"
        chain = CliRunner().invoke(
            cli, ["--json", "provenance", "shop-api@1.0.0"], obj=Cli(_client=client, progress=False), catch_exceptions=False
        )
        assert chain.exit_code == 0, chain.output
        (approval,) = [link for link in json.loads(chain.stdout)["links"] if link["kind"] == "approval"]
        assert approval["ok"] and approval["detail"] == "by bob, signed with key bob"

    def test_a_signed_approval_that_does_not_match_is_refused_and_changes_nothing(
        self,
        client: HoistClient,
        client_as: Callable[[str], HoistClient],
        tmp_path: Path,
        bob_key: Path,
        metadata: SqlMetadataStore,
    ) -> None:
        from hoist.cli.releases import signed_approval

        digest = push(client, tmp_path, version="1.0.0")["artifact"]["digest"]
        other = push(client, tmp_path, version="2.0.0", content=b"other")["artifact"]["digest"]
        bob, pem = client_as("bob"), bob_key.read_bytes()
        stranger = k.private_pem(k.generate())
        before = row_counts(metadata)
        cases = [
            (signed_approval(pem, None, "bob", "shop-api@1.0.0", digest, "uat", None), "not 'prod'"),
            (signed_approval(pem, None, "mallory", "shop-api@1.0.0", digest, "prod", None), "another approver"),
            (signed_approval(pem, None, "bob", "shop-api@2.0.0", other, "prod", None), "not shop-api@1.0.0"),
            (signed_approval(stranger, None, "bob", "shop-api@1.0.0", digest, "prod", None), "configured key"),
            (b"not an envelope", "configured key"),
        ]
        for envelope, message in cases:
            with pytest.raises(e.InvalidInput, match=message):
                bob.approve("shop-api@1.0.0", environment="prod", envelope=envelope)
        assert row_counts(metadata) == before

    def test_a_test_result_signed_by_ci_must_say_what_the_report_says(
        self,
        http: httpx.Client,
        client_as: Callable[[str], HoistClient],
        tmp_path: Path,
        bob_key: Path,
        metadata: SqlMetadataStore,
    ) -> None:
        from hoist.cli.releases import signed_statement

        bob = client_as("bob")  # the CI robot holding the key
        digest = push(bob, tmp_path, version="1.0.0")["artifact"]["digest"]
        report = tmp_path / "junit.xml"
        report.write_bytes(JUNIT)
        out = CliRunner().invoke(
            cli,
            ["attest", "shop-api@1.0.0", "--type", "unit-tests", "--junit", str(report), "--key", str(bob_key)],
            obj=Cli(_client=bob, progress=False),
            catch_exceptions=False,
        )
        assert out.exit_code == 0, out.output
        recorded = next(x for x in bob.artifact("shop-api@1.0.0")["attachments"] if x["type"] == "unit-tests")
        assert (recorded["result"], recorded["details"]["signed_by"]) == ("fail", "bob")

        # a signature over a claim the report contradicts is refused, and changes nothing
        predicate, _, _ = a.test_result_of(
            kind="unit-tests", actor="bob", environment=None, url=None, passed=True, junit=None
        )
        lying = signed_statement(bob_key.read_bytes(), None, "shop-api@1.0.0", digest, a.TEST_RESULT, predicate)
        carol = client_as("carol")
        before = row_counts(metadata)
        with pytest.raises(e.InvalidInput, match="result, configuration, failedTests, hoist differ"):
            bob.attest("shop-api@1.0.0", type="unit-tests", junit=JUNIT.decode(), envelope=lying)
        with pytest.raises(e.InvalidInput, match="another actor"):
            carol.attest("shop-api@1.0.0", type="unit-tests", result="pass", envelope=lying)
        assert row_counts(metadata) == before
        assert bob.attest("shop-api@1.0.0", type="unit-tests", result="pass", envelope=lying)["result"] == "pass"
