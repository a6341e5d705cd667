"""Deployments, rollbacks and status over /api/v1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.helpers import push, release_to, row_counts


@pytest.fixture
def bob(client_as: Callable[[str], HoistClient]) -> HoistClient:
    return client_as("bob")


def test_each_environment_checks_its_gates(client: HoistClient, bob: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.4.0", build="auto")
    ref = "shop-api@1.4.0+1"
    with pytest.raises(e.DeploymentRefused) as info:
        client.deploy(ref, environment="uat")
    assert [p.gate for p in info.value.problems] == ["previous-environment"]
    client.deploy(ref, environment="dev")
    client.deploy(ref, environment="uat")
    with pytest.raises(e.DeploymentRefused) as info:
        client.deploy(ref, environment="preprod")
    assert [p.gate for p in info.value.problems] == ["registry"]
    assert "promote it with --to prod" in info.value.problems[0].message
    client.attest(ref, type="unit-tests", result="pass")
    client.promote(ref, to="prod")
    client.deploy(ref, environment="preprod")
    with pytest.raises(e.DeploymentRefused) as info:
        client.deploy(ref, environment="prod")
    assert [p.gate for p in info.value.problems] == ["attestation:acceptance", "approvals"]
    client.attest(ref, type="acceptance", result="pass", environment="preprod")
    own = client.approve(ref, environment="prod")
    assert not own["counts"] and "does not count" in own["note"]
    with pytest.raises(e.DeploymentRefused, match="approval"):
        client.deploy(ref, environment="prod")
    assert bob.approve(ref, environment="prod")["counts"]
    deployed = client.deploy(ref, environment="prod", reason="release")
    assert (deployed["status"], deployed["kind"], deployed["actor"]) == ("succeeded", "deploy", "alice")
    refusals = [ev for ev in client.history(ref) if ev["action"] == "deployment:refused"]
    assert [ev["details"]["environment"] for ev in refusals] == ["uat", "preprod", "prod", "prod"]


def test_a_ceiling_stops_a_dev_branch_build(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0", max_env="dev")
    client.deploy("shop-api@1.0.0", environment="dev")
    with pytest.raises(e.DeploymentRefused, match="ceiling"):
        client.deploy("shop-api@1.0.0", environment="uat")


def test_pending_deployments_are_finished_by_the_client(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0")
    started = client.deploy("shop-api@1.0.0", environment="dev", pending=True)
    assert started["status"] == "started" and started["finished_at"] is None
    assert client.status() == []  # not running until it succeeded
    done = client.finish(started["id"], succeeded=True, exit_code=0)
    assert done["status"] == "succeeded" and done["exit_code"] == 0
    with pytest.raises(e.InvalidState, match="already succeeded"):
        client.finish(started["id"], succeeded=False)
    failed = client.finish(
        client.deploy("shop-api@1.0.0", environment="uat", pending=True)["id"], succeeded=False, exit_code=3
    )
    assert failed["status"] == "failed"
    assert [(s["environment"], s["version"]) for s in client.status()] == [("dev", "1.0.0")]
    with pytest.raises(e.DeploymentNotFound):
        client.finish(4242, succeeded=True)


def test_rollback_returns_to_the_previous_good_version_and_holds_the_rejected_one(
    client: HoistClient, bob: HoistClient, tmp_path: Path
) -> None:
    for version in ("1.4.0", "1.4.1"):
        push(client, tmp_path, version=version, content=version.encode())
        release_to(client, bob, f"shop-api@{version}", "prod")
    assert [s["version"] for s in client.status("prod")] == ["1.4.1"]
    plan = client.rollback("shop-api", environment="prod", dry_run=True)
    assert (plan["current"]["version"], plan["target"]["version"], plan["deployment"]) == ("1.4.1", "1.4.0", None)
    done = client.rollback("shop-api", environment="prod", reason="p99 latency")
    assert (done["deployment"]["kind"], done["deployment"]["reason"]) == ("rollback", "p99 latency")
    status = client.status("prod")[0]
    assert (status["version"], status["kind"]) == ("1.4.0", "rollback")
    # the rejected version is held back until someone approves it again
    with pytest.raises(e.DeploymentRefused) as info:
        client.deploy("shop-api@1.4.1", environment="prod")
    assert [p.gate for p in info.value.problems] == ["hold"]
    assert client.artifact("shop-api@1.4.1")["holds"][0]["reason"] == "p99 latency"
    assert client.approve("shop-api@1.4.1", environment="prod")["released_hold"] is False  # the pusher cannot
    again = bob.approve("shop-api@1.4.1", environment="prod")
    assert again["released_hold"] and again["created"]
    client.deploy("shop-api@1.4.1", environment="prod")
    actions = [ev["action"] for ev in client.history("shop-api")]
    assert actions.count("deployment:rollback") == 1 and "environment:hold" in actions
    assert "environment:release-hold" in actions


def test_rollback_skips_held_versions_and_can_target_a_version(
    client: HoistClient, bob: HoistClient, tmp_path: Path
) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        push(client, tmp_path, version=version, content=version.encode())
        release_to(client, bob, f"shop-api@{version}", "dev")
    assert client.rollback("shop-api", environment="dev")["target"]["version"] == "1.1.0"
    # 1.2.0 is held; rolling back again goes past it to 1.0.0
    assert client.rollback("shop-api", environment="dev")["target"]["version"] == "1.0.0"
    with pytest.raises(e.InvalidState, match="already runs"):
        client.rollback("shop-api", environment="dev", to="1.0.0")
    with pytest.raises(e.NothingToRollBack):
        client.rollback("shop-api", environment="dev")
    with pytest.raises(e.NothingToRollBack):
        client.rollback("shop-api", environment="uat")


def test_rollback_refuses_a_corrupt_target_and_changes_nothing(
    client: HoistClient, tmp_path: Path, blobs: FilesystemBlobStore, metadata: SqlMetadataStore
) -> None:
    old = push(client, tmp_path, version="1.0.0", content=b"old bytes")["artifact"]
    client.deploy("shop-api@1.0.0", environment="dev")
    push(client, tmp_path, version="1.1.0", content=b"new bytes")
    client.deploy("shop-api@1.1.0", environment="dev")
    path = blobs.path(Digest.of(b"old bytes"))
    assert path is not None
    path.write_bytes(b"bit rot!!")
    before = row_counts(metadata)
    with pytest.raises(e.DeploymentRefused) as info:
        client.rollback("shop-api", environment="dev")
    assert [p.gate for p in info.value.problems] == ["intact"] and "corrupt" in info.value.problems[0].message
    after = row_counts(metadata)
    assert after["deployments"] == before["deployments"] and after["holds"] == before["holds"]
    assert after["audit_events"] == before["audit_events"] + 1  # the refusal itself
    path.unlink()
    with pytest.raises(e.DeploymentRefused, match="missing"):
        client.rollback("shop-api", environment="dev", to="1.0.0", dry_run=True)
    assert old["digest"] != client.status("dev")[0]["digest"]


def test_rollback_refuses_an_overwritten_snapshot(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0-SNAPSHOT", content=b"first")
    client.deploy("shop-api@1.0.0-SNAPSHOT", environment="dev")
    push(client, tmp_path, version="1.1.0-SNAPSHOT")
    client.deploy("shop-api@1.1.0-SNAPSHOT", environment="dev")
    push(client, tmp_path, version="1.0.0-SNAPSHOT", content=b"rebuilt")
    with pytest.raises(e.DeploymentRefused, match="ran as"):
        client.rollback("shop-api", environment="dev")


def test_status_and_unknown_environments(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0")
    push(client, tmp_path, package="web", version="2.0.0")
    client.deploy("shop-api@1.0.0", environment="dev")
    client.deploy("web@2.0.0", environment="dev")
    client.deploy("web@2.0.0", environment="uat")
    assert [(s["environment"], s["package"]) for s in client.status()] == [
        ("dev", "shop-api"),
        ("dev", "web"),
        ("uat", "web"),
    ]
    with pytest.raises(e.UnknownEnvironment, match="known: dev, uat, preprod, prod"):
        client.status("qa")
    with pytest.raises(e.UnknownEnvironment):
        client.deploy("web@2.0.0", environment="qa")
    with pytest.raises(e.UnknownEnvironment):
        client.approve("web@2.0.0", environment="qa")
