"""hoist delete: a version out of one registry under the rule OCI DELETE follows, into the trash
(restorable until purged), audited, and every refusal saying why."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from hoist.cli.context import Cli
from hoist.cli.exits import NOT_FOUND, REFUSED, USAGE
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.metadata.sql.store import SqlMetadataStore
from tests.functional.helpers import push, row_counts

Hoist = Callable[..., tuple[int, str]]


def runner(client: HoistClient) -> Hoist:
    def hoist(*args: str) -> tuple[int, str]:
        out = CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)
        return out.exit_code, out.output

    return hoist


def events(client: HoistClient, action: str) -> list[dict[str, object]]:
    return [ev for ev in map(json.loads, client.export_lines()) if ev["action"] == action]


@pytest.fixture
def developer(client_as: Callable[..., HoistClient]) -> HoistClient:
    """The least-privileged principal that may delete from dev: the developer role (delete:dev)."""
    return client_as("dana", ["role:developer"])


def test_delete_moves_the_version_into_the_trash_and_restore_brings_it_back(
    client: HoistClient, developer: HoistClient, tmp_path: Path
) -> None:
    push(developer, tmp_path, version="1.0.0")
    push(developer, tmp_path, version="1.1.0", content=b"next")
    code, text = runner(developer)(
        "delete", "shop-api@1.0.0", "--registry", "dev", "--reason", "built from the wrong branch"
    )
    assert code == 0, text
    assert "deleted shop-api@1.0.0 from dev" in text and "hoist restore shop-api@1.0.0 --registry dev" in text
    assert [a["version"] for a in developer.artifacts(registry="dev")] == ["1.1.0"]
    [item] = client.trash(registry="dev", state="trashed")
    assert item["ref"] == "shop-api@1.0.0"
    assert item["reason"] == "built from the wrong branch" and item["deleted_by"] == "dana"
    [event] = events(client, "artifact:delete")
    assert event["actor"] == "dana" and event["subject"] == "shop-api@1.0.0"
    assert event["details"]["reason"] == "built from the wrong branch" and event["details"]["trash"] == item["id"]
    client.restore("shop-api@1.0.0", registry="dev")  # restoring needs admin on the registry
    assert sorted(a["version"] for a in developer.artifacts(registry="dev")) == ["1.0.0", "1.1.0"]


def test_delete_without_registry_takes_the_only_one_holding_the_version(developer: HoistClient, tmp_path: Path) -> None:
    push(developer, tmp_path)
    result = developer.delete("shop-api@1.4.0")
    assert result["registry"] == "dev" and result["ref"] == "shop-api@1.4.0"
    assert developer.artifacts(registry="dev") == []


def test_refusals_say_why_are_audited_and_change_nothing(
    client: HoistClient,
    developer: HoistClient,
    client_as: Callable[..., HoistClient],
    metadata: SqlMetadataStore,
    tmp_path: Path,
) -> None:
    push(developer, tmp_path, version="1.0.0")
    push(developer, tmp_path, version="1.1.0", content=b"next")
    push(developer, tmp_path, version="1.2.0", content=b"last")
    client.attest("shop-api@1.0.0", type="unit-tests", result="pass")
    client.promote("shop-api@1.0.0", to="prod")
    for version in ("1.0.0", "1.1.0"):
        developer.deploy(f"shop-api@{version}", environment="dev")
    ci = client_as("cid", ["role:ci"])
    hoist, as_ci, as_admin = runner(developer), runner(ci), runner(client)
    before = {k: v for k, v in row_counts(metadata).items() if k != "audit_events"}
    cases = [
        (hoist, ("delete", "shop-api@1.1.0", "--registry", "dev"), REFUSED, "shop-api@1.1.0 runs in dev"),
        (hoist, ("delete", "shop-api@1.0.0", "--registry", "dev"), REFUSED, "rollback window of dev"),
        (hoist, ("delete", "shop-api@1.0.0", "--registry", "prod"), REFUSED, "dana may not delete shop-api@1.0.0"),
        (
            as_admin,
            ("delete", "shop-api@1.0.0", "--registry", "prod"),
            REFUSED,
            "registry prod does not allow deletes",
        ),
        (as_ci, ("delete", "shop-api@1.2.0", "--registry", "dev"), REFUSED, "that needs delete:dev"),
        (hoist, ("delete", "shop-api@1.0.0"), USAGE, "it is in dev, prod: name one with --registry"),
        (hoist, ("delete", "shop-api@9.9.9", "--registry", "dev"), NOT_FOUND, "shop-api@9.9.9 does not exist"),
        (hoist, ("delete", "shop-api", "--registry", "dev"), USAGE, "not an artifact reference"),
    ]
    for run, args, code, message in cases:
        got, text = run(*args)
        assert (got, message in text) == (code, True), (args, text)
    assert {k: v for k, v in row_counts(metadata).items() if k != "audit_events"} == before
    refused = events(client, "artifact:delete-refused")
    assert [e["details"]["registry"] for e in refused] == ["dev", "dev", "prod"]
    assert "runs in dev" in str(refused[0]["details"]["problem"])
    denied = [e for e in events(client, "access:denied") if e["details"]["needs"] in (["delete:prod"], ["delete:dev"])]
    assert [e["actor"] for e in denied] == ["dana", "cid"]
