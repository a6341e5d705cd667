"""Promotion over /api/v1: gates named, zero-copy, sealed, atomic, idempotent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.manifests import EMPTY_DIGEST
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.helpers import push, row_counts


def test_a_snapshot_stops_at_dev_and_every_gate_is_named(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.4.0-SNAPSHOT", build="auto")
    with pytest.raises(e.PromotionRefused) as info:
        client.promote("shop-api@1.4.0-SNAPSHOT+1", to="prod")
    assert [p.gate for p in info.value.problems] == ["ceiling", "attestation:unit-tests"]
    assert "snapshot" in info.value.problems[0].message
    refused = client.history("shop-api@1.4.0-SNAPSHOT+1")[-1]
    assert refused["action"] == "artifact:promote-refused"
    assert [p["gate"] for p in refused["details"]["problems"]] == ["ceiling", "attestation:unit-tests"]


def test_promotion_is_zero_copy_sealed_and_keeps_the_digest(
    client: HoistClient, tmp_path: Path, blobs: FilesystemBlobStore
) -> None:
    digest = push(client, tmp_path, version="1.4.0", build="auto")["artifact"]["digest"]
    client.attest("shop-api@1.4.0+1", type="unit-tests", result="pass")
    stored_before = sorted(blobs.digests())
    result = client.promote("shop-api@1.4.0+1", to="prod", reason="release 1.4")
    assert (result["status"], result["sealed"], result["artifact"]["digest"]) == ("promoted", True, digest)
    assert result["gates"] == ["source", "ceiling", "attestation:unit-tests"]
    summary = next(a for a in client.artifact("shop-api@1.4.0+1")["attachments"] if a["type"] == "verification-summary")
    new = {str(d) for d in blobs.digests()} - {str(d) for d in stored_before}
    assert new <= {summary["details"]["envelope"], str(EMPTY_DIGEST)}  # no artifact byte copied: only the VSA
    placements = {p["registry"]: p for p in client.artifact("shop-api@1.4.0+1", registry="prod")["placements"]}
    assert placements["prod"]["sealed"] and placements["prod"]["via"] == "promotion"
    assert not placements["dev"]["sealed"]
    event = client.history("shop-api@1.4.0+1")[-1]
    assert (
        event["action"] == "artifact:promote" and event["digest"] == digest and event["details"]["reason"] == "release 1.4"
    )


def test_promotion_is_idempotent(client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore) -> None:
    push(client, tmp_path, version="1.0.0")
    client.attest("shop-api@1.0.0", type="unit-tests", result="pass")
    client.promote("shop-api@1.0.0", to="prod")
    before = row_counts(metadata)
    again = client.promote("shop-api@1.0.0", to="prod")
    assert again["status"] == "already-promoted" and again["sealed"]
    assert row_counts(metadata) == before


def test_dry_run_checks_everything_and_changes_nothing(
    client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore
) -> None:
    push(client, tmp_path, version="1.0.0")
    before = row_counts(metadata)
    with pytest.raises(e.PromotionRefused, match="would refuse"):
        client.promote("shop-api@1.0.0", to="prod", dry_run=True)
    assert row_counts(metadata) == before
    client.attest("shop-api@1.0.0", type="unit-tests", result="pass")
    before = row_counts(metadata)
    assert client.promote("shop-api@1.0.0", to="prod", dry_run=True)["status"] == "planned"
    assert row_counts(metadata) == before


def test_a_sealed_snapshot_cannot_be_overwritten(
    client: HoistClient, tmp_path: Path, settings_with_snapshot_promotion: None
) -> None:
    push(client, tmp_path, version="2.0.0-SNAPSHOT")
    client.promote("shop-api@2.0.0-SNAPSHOT", to="qa")
    with pytest.raises(e.VersionExists, match="sealed in qa"):
        push(client, tmp_path, version="2.0.0-SNAPSHOT", content=b"rebuilt")


@pytest.fixture
def config_text(request: pytest.FixtureRequest) -> str:
    if "settings_with_snapshot_promotion" not in request.fixturenames:
        return ""
    return """
[registries.dev]
overwrite_snapshots = true
[registries.qa]
direct_push = false
promote_from = ["dev"]
[environments.dev]
registry = "dev"
[environments.qa]
registry = "qa"
[ceilings]
snapshot = "qa"
rc = "qa"
release = "qa"
"""


@pytest.fixture
def settings_with_snapshot_promotion() -> None:
    """Marks a test that runs with a dev → qa policy where snapshots may be promoted."""


def test_a_later_failing_attestation_blocks_promotion(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0")
    client.attest("shop-api@1.0.0", type="unit-tests", result="pass")
    junit = '<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>'
    out = client.attest("shop-api@1.0.0", type="unit-tests", junit=junit)
    assert out["result"] == "fail" and out["details"]["failures"] == 1
    with pytest.raises(e.PromotionRefused, match="latest unit-tests attestation"):
        client.promote("shop-api@1.0.0", to="prod")


def test_unknown_targets_and_artifacts(client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore) -> None:
    push(client, tmp_path, version="1.0.0")
    before = row_counts(metadata)
    with pytest.raises(e.UnknownRegistry):
        client.promote("shop-api@1.0.0", to="staging")
    with pytest.raises(e.ArtifactNotFound):
        client.promote("shop-api@9.9.9", to="prod")
    with pytest.raises(e.InvalidInput):
        client.promote("shop-api", to="prod")
    assert row_counts(metadata) == before


def test_concurrent_promotions_place_once(
    client: HoistClient, client_as: Callable[[str], HoistClient], tmp_path: Path
) -> None:
    import threading

    push(client, tmp_path, version="1.0.0")
    client.attest("shop-api@1.0.0", type="unit-tests", result="pass")
    results: list[str] = []
    clients = [client_as(f"rel{i}") for i in range(4)]

    def promote(c: HoistClient) -> None:
        results.append(c.promote("shop-api@1.0.0", to="prod")["status"])

    threads = [threading.Thread(target=promote, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already-promoted"] * 3 + ["promoted"]
    assert [ev["action"] for ev in client.history("shop-api@1.0.0")].count("artifact:promote") == 1
