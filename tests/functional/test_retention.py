"""Retention through the API and the CLI, on a clock the test moves: plan, apply into the trash,
restore, purge; guarantees; rights; audit."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoist.app import Services, build_services
from hoist.cli.context import Cli
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain import errors as e
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.helpers import Clock, push
from tests.functional.oci_helpers import image_manifest, put_manifest


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def services(settings: Settings, metadata: SqlMetadataStore, blobs: FilesystemBlobStore, clock: Clock) -> Services:
    return build_services(settings, metadata, blobs, clock)


@pytest.fixture
def config_text() -> str:
    return """
[registries.dev]
direct_push = true
movable_tags = true
allow_delete = true
seal_on_promotion = false
retention = { keep_last = 2, snapshot_days = 3, trash_days = 7 }
[registries.prod]
direct_push = false
promote_from = ["dev"]
retention = { keep_releases = 1, sealed_min_days = 30, trash_days = 14 }

[environments.dev]
registry = "dev"
[environments.prod]
registry = "prod"

[ceilings]
snapshot = "dev"
rc = "dev"
release = "prod"

[retention]
rollback_window = 2
"""


def verdicts(plans: list[dict[str, object]], registry: str) -> dict[str, tuple[str, str]]:
    plan = next(p for p in plans if p["registry"] == registry)
    return {v["ref"]: (v["verdict"], v["reason"]) for v in plan["verdicts"]}  # type: ignore[attr-defined, index]


def test_plan_apply_restore_purge(client: HoistClient, clock: Clock, tmp_path: Path) -> None:
    for i, v in enumerate(["1.0.0", "1.1.0", "1.2.0", "1.3.0"]):
        push(client, tmp_path, version=v, content=f"build {i}".encode())
        clock.advance(1)
    push(client, tmp_path, version="2.0.0-SNAPSHOT", content=b"snap")
    client.deploy("shop-api@1.0.0", environment="dev")  # the oldest runs in dev: kept whatever the rules say
    clock.advance(4)
    plans = client.retention_plan()
    dev = verdicts(plans, "dev")
    assert dev == {
        "shop-api@1.0.0": ("keep", "guarantee: runs in dev now"),
        "shop-api@1.1.0": ("delete", "placed 7 days ago; not among the 2 newest versions"),
        "shop-api@1.2.0": ("keep", "kept: one of the 2 newest versions of shop-api"),
        "shop-api@1.3.0": ("keep", "kept: one of the 2 newest versions of shop-api"),
        "shop-api@2.0.0-SNAPSHOT": ("delete", "snapshot_days=3: a snapshot placed 4 days ago"),
    }
    assert client.artifact("shop-api@1.1.0")["placements"]  # a plan changes nothing

    applied = client.retention_apply("dev")
    trashed = {i["ref"]: i for i in applied[0]["trashed"]}
    assert set(trashed) == {"shop-api@1.1.0", "shop-api@2.0.0-SNAPSHOT"}
    assert [a["version"] for a in client.artifacts(package="shop-api", registry="dev")] == ["1.0.0", "1.2.0", "1.3.0"]
    events = [ev for ev in client.history("shop-api") if ev["action"] == "artifact:retention-delete"]
    assert {ev["subject"]: ev["details"]["reason"] for ev in events} == {
        ref: item["reason"] for ref, item in trashed.items()
    }

    restored = client.restore("shop-api@1.1.0", "dev")
    assert restored["state"] == "restored" and restored["registry"] == "dev"
    assert client.artifact("shop-api@1.1.0")["placements"][0]["registry"] == "dev"
    with pytest.raises(e.InvalidState, match="already restored"):
        client.restore(trashed["shop-api@1.1.0"]["id"])

    clock.advance(6)
    assert client.purge_trash() == []  # the snapshot has 1 more day in the trash
    clock.advance(2)
    purged = client.purge_trash()
    assert [p["ref"] for p in purged] == ["shop-api@2.0.0-SNAPSHOT"]
    with pytest.raises(e.InvalidState, match="already purged"):
        client.restore(purged[0]["id"])
    states = {i["ref"]: i["state"] for i in client.trash()}
    assert states == {"shop-api@1.1.0": "restored", "shop-api@2.0.0-SNAPSHOT": "purged"}
    actions = [ev["action"] for ev in client.history("shop-api")]
    assert actions.count("artifact:restore") == 1 and actions.count("artifact:purge") == 1


def test_prod_keeps_its_rollback_window_and_young_sealed_releases(
    client: HoistClient, client_as: Callable[..., HoistClient], clock: Clock, tmp_path: Path
) -> None:
    for i, v in enumerate(["1.0.0", "2.0.0", "3.0.0", "4.0.0"]):
        push(client, tmp_path, version=v, content=f"release {i}".encode())
        client.attest(f"shop-api@{v}", type="unit-tests", result="pass")
        client.promote(f"shop-api@{v}", to="prod")
        if v != "4.0.0":
            client.deploy(f"shop-api@{v}", environment="dev")
            client.deploy(f"shop-api@{v}", environment="prod")
        clock.advance(20)
    prod = verdicts(client.retention_plan("prod"), "prod")
    assert prod == {
        "shop-api@1.0.0": ("delete", "placed 80 days ago; not among the 1 newest releases"),
        "shop-api@2.0.0": ("keep", "guarantee: in the rollback window of dev, prod"),
        "shop-api@3.0.0": ("keep", "guarantee: runs in dev, prod now"),
        "shop-api@4.0.0": ("keep", "guarantee: sealed here less than 30 days ago"),
    }
    # a developer may read the plan of dev but not apply it; nobody without admin on prod applies it
    dana = client_as("dana", ["role:developer"])
    assert verdicts(dana.retention_plan("dev"), "dev")
    with pytest.raises(e.Denied, match="needs admin:dev"):
        dana.retention_apply("dev")
    with pytest.raises(e.Denied, match="needs read:prod"):
        dana.retention_plan("prod")
    applied = client.retention_apply("prod")
    assert [i["ref"] for i in applied[0]["trashed"]] == ["shop-api@1.0.0"]


def test_an_oci_version_leaves_with_its_referrers_and_tags_and_comes_back(
    http: httpx.Client, client: HoistClient, clock: Clock
) -> None:
    repo = "dev/shop/api"
    raw = image_manifest(http, repo)
    put_manifest(http, repo, "1.0.0", raw)
    from hoist.domain.digests import Digest

    subject = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": str(Digest.of(raw)), "size": len(raw)}
    signature = image_manifest(http, repo, subject=subject, artifact_type="application/vnd.dev.cosign.simplesigning.v1+json")
    assert put_manifest(http, repo, str(Digest.of(signature)), signature).status_code == 201
    put_manifest(http, repo, "latest", raw)
    for v in ("1.1.0", "1.2.0"):
        clock.advance(1)
        put_manifest(http, repo, v, image_manifest(http, repo))
    clock.advance(1)
    (applied,) = client.retention_apply("dev")
    (item,) = applied["trashed"]
    assert item["ref"] == "shop/api@1.0.0" and len(item["members"]) == 2 and item["tags"] == ["latest"]
    assert http.get(f"/v2/{repo}/manifests/1.0.0").status_code == 404
    assert http.get(f"/v2/{repo}/manifests/{Digest.of(signature)}").status_code == 404
    assert "latest" not in http.get(f"/v2/{repo}/tags/list").json()["tags"]
    client.restore(item["id"])
    assert http.get(f"/v2/{repo}/manifests/latest").content == raw
    referrers = http.get(f"/v2/{repo}/referrers/{Digest.of(raw)}").json()["manifests"]
    assert [r["digest"] for r in referrers] == [str(Digest.of(signature))]


def test_the_cli_prints_every_verdict_and_its_reason(client: HoistClient, clock: Clock, tmp_path: Path) -> None:
    for v in ("1.0.0", "1.1.0", "1.2.0"):
        push(client, tmp_path, version=v, content=v.encode())
        clock.advance(1)

    def hoist(*args: str) -> tuple[int, str]:
        out = CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)
        return out.exit_code, out.output

    code, text = hoist("retention", "plan", "--registry", "dev")
    assert code == 0 and "not among the 2 newest versions" in text and "1 of 3 version(s) would go from dev" in text
    assert plain_columns(text, "VERSION", "VERDICT", "WHY", "PLACED")
    code, text = hoist("retention", "apply", "--registry", "dev", "--json")
    assert code == 0 and json.loads(text)[0]["trashed"][0]["ref"] == "shop-api@1.0.0"
    code, text = hoist("trash", "list")
    assert code == 0 and "shop-api@1.0.0" in text and "trashed" in text
    assert plain_columns(text, "ID", "VERSION", "REGISTRY", "STATE")
    code, text = hoist("restore", "shop-api@1.0.0")
    assert code == 2 and "needs --registry" in text
    code, text = hoist("restore", "shop-api@1.0.0", "--registry", "dev")
    assert code == 0 and "restored shop-api@1.0.0 into dev" in text


def plain_columns(text: str, *headings: str) -> bool:
    """Printed as every other command prints a list: a heading line of capitals, no box drawing."""
    boxes = set("┏┓┗┛┃━│─┡┩╇╈┼┠┨")
    return not boxes & set(text) and any(
        line.split()[: len(headings)] == list(headings) for line in text.splitlines() if line
    )
