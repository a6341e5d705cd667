"""Rollback drills and fsck: a readiness report that fails when a rollback target would, and a
store check that finds corrupt and missing bytes and never serves a corrupt blob as good."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoist.app import Services
from hoist.cli.context import Cli
from hoist.cli.exits import INTEGRITY
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.domain.jobs import MAINTENANCE, WorkReport
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.helpers import push
from tests.functional.oci_helpers import image_manifest, put_manifest


def hoist(client: HoistClient, *args: str) -> tuple[int, str]:
    out = CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)
    return out.exit_code, out.output


def deployed_three(client: HoistClient, tmp_path: Path) -> list[str]:
    refs = []
    for v in ("1.0.0", "1.1.0", "1.2.0"):
        push(client, tmp_path, version=v, content=f"build {v}".encode())
        client.deploy(f"shop-api@{v}", environment="dev")
        refs.append(f"shop-api@{v}")
    return refs


def test_a_drill_reports_every_rollback_target_ready(client: HoistClient, tmp_path: Path) -> None:
    deployed_three(client, tmp_path)
    report = client.drill("dev")
    assert report["ready"] and [p["package"] for p in report["packages"]] == ["shop-api"]
    (package,) = report["packages"]
    assert package["current"] == "shop-api@1.2.0"
    assert [t["ref"] for t in package["targets"]] == ["shop-api@1.0.0", "shop-api@1.1.0"]
    code, text = hoist(client, "rollback", "--drill", "--env", "dev")
    assert code == 0 and "rollback ready" in text
    drills = [ev for ev in map(json.loads, client.export_lines()) if ev["action"] == "environment:rollback-drill"]
    assert len(drills) == 2 and drills[-1]["details"]["ready"] is True
    assert drills[-1]["details"]["packages"]["shop-api"]["current"] == "shop-api@1.2.0"


def test_a_drill_fails_when_a_target_is_corrupt_or_would_not_pass_the_gates(
    client: HoistClient, blobs: FilesystemBlobStore, tmp_path: Path
) -> None:
    refs = deployed_three(client, tmp_path)
    corrupt = Digest.parse(client.artifact(refs[0])["files"][0]["digest"])
    path = blobs.path(corrupt)
    assert path is not None
    path.write_bytes(b"bit rot")
    code, text = hoist(client, "rollback", "--drill", "--env", "dev", "shop-api")
    assert code == INTEGRITY and "NOT READY" in text and f"blob {corrupt} is corrupt" in text
    # an attestation that now fails makes a target fail the gates of an environment requiring it
    client.attest(refs[1], type="unit-tests", result="fail")
    report = client.drill("dev")
    assert not report["ready"] and report["integrity_failed"]


def test_fsck_finds_corrupt_and_missing_bytes_and_a_corrupt_blob_is_never_served(
    client: HoistClient, http: httpx.Client, blobs: FilesystemBlobStore, tmp_path: Path
) -> None:
    push(client, tmp_path, version="1.0.0", content=b"good bytes")
    raw = image_manifest(http, "dev/shop/api")
    put_manifest(http, "dev/shop/api", "1.0.0", raw)
    code, text = hoist(client, "fsck")
    assert code == 0 and "audit chain intact" in text
    file_digest = Digest.parse(client.artifact("shop-api@1.0.0")["files"][0]["digest"])
    path = blobs.path(file_digest)
    assert path is not None
    path.write_bytes(b"rotten bytes")
    layer = Digest.parse(json.loads(raw)["layers"][0]["digest"])
    missing_path = blobs.path(layer)
    assert missing_path is not None
    missing_path.unlink()
    report = client.fsck()
    assert not report["ok"] and report["corrupt"] == [str(file_digest)]
    assert {"manifest": str(Digest.of(raw)), "blob": str(layer)} in report["missing"]
    # marked: never served as good, on /api/v1 nor through pull
    served = http.get(f"/api/v1/blobs/{file_digest}")
    assert served.status_code == 500 and served.json()["error"]["code"] == "BLOB_CORRUPT"
    code, text = hoist(client, "pull", "shop-api@1.0.0", "-o", str(tmp_path / "out"))
    assert code == INTEGRITY and "is corrupt" in text and not (tmp_path / "out" / "app.tgz").exists()
    code, text = hoist(client, "fsck", "--quarantine")
    assert code == INTEGRITY and "corrupt" in text and "(quarantined)" in text
    assert list((blobs.root / "quarantine").iterdir())
    # pushing the good bytes again repairs it
    push(client, tmp_path, version="1.0.1", content=b"good bytes")
    assert http.get(f"/api/v1/blobs/{file_digest}").content == b"good bytes"


def test_drills_and_fsck_need_their_rights(client_as: Callable[..., HoistClient]) -> None:
    dana = client_as("dana", ["role:developer"])
    with pytest.raises(e.Denied, match="needs admin"):
        dana.fsck()
    with pytest.raises(e.Denied, match="needs deploy@prod or audit"):
        dana.drill("prod")
    assert dana.drill("dev")["ready"]  # developers deploy to dev: they may drill it


def test_maintenance_runs_everything_once_over_the_api_and_as_its_job(
    client: HoistClient, services: Services, tmp_path: Path, drain: Callable[[], WorkReport]
) -> None:
    deployed_three(client, tmp_path)
    code, text = hoist(client, "maintenance", "run")
    assert code == 0, text
    assert "retention dev: 0 version(s) moved to the trash" in text and "rollback drill dev: ready" in text
    summary = client.maintain(drill=False)
    assert summary["drills"] == [] and summary["ready"] is True and "bytes_freed" in summary["gc"]
    drain()  # the versions' SBOMs
    with services.metadata.session() as s:  # as the queue's schedule does, every [maintenance] every_hours
        s.jobs.enqueue(MAINTENANCE, {}, key=MAINTENANCE)
    report = drain()
    assert report.ran == 1 and not report.failed
    ran = {ev["action"] for ev in map(json.loads, client.export_lines()) if ev["actor"] == "hoist-maintenance"}
    assert {"blobs:collect", "environment:rollback-drill"} <= ran
