"""Pushing artifacts over /api/v1: the happy paths, and bad input that must change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.domain.jobs import WorkReport
from hoist.domain.manifests import EMPTY_DIGEST
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.helpers import push, row_counts


def test_push_then_read_back(client: HoistClient, tmp_path: Path) -> None:
    result = push(client, tmp_path, version="1.4.0-SNAPSHOT", build="auto")
    a = result["artifact"]
    assert result["outcome"] == "created" and result["registry"] == "dev"
    assert (a["version"], a["channel"], a["ceiling"], a["pushed_by"]) == ("1.4.0-SNAPSHOT+1", "snapshot", "dev", "alice")
    details = client.artifact("shop-api@1.4.0-SNAPSHOT+1")
    assert details["digest"] == a["digest"]
    assert [(f["name"], f["size"]) for f in details["files"]] == [("app.tgz", 16)]
    assert [p["registry"] for p in details["placements"]] == ["dev"]
    assert client.artifact(f"shop-api@{a['digest']}")["version"] == "1.4.0-SNAPSHOT+1"
    manifest = client.request("GET", "/artifacts/shop-api@1.4.0-SNAPSHOT+1/manifest")
    assert manifest.headers["docker-content-digest"] == a["digest"]


def test_build_auto_counts_per_version(client: HoistClient, tmp_path: Path) -> None:
    versions = [
        push(client, tmp_path, version=v, build="auto", content=v.encode() + bytes([i]))["artifact"]["version"]
        for i, v in enumerate(["2.0.0", "2.0.0", "2.1.0", "2.0.0"])
    ]
    assert versions == ["2.0.0+1", "2.0.0+2", "2.1.0+1", "2.0.0+3"]
    assert push(client, tmp_path, version="3.0.0", build=7)["artifact"]["version"] == "3.0.0+7"
    assert push(client, tmp_path, version="3.0.0", build="auto", content=b"x")["artifact"]["version"] == "3.0.0+8"


def test_multi_file_artifact_and_four_part_versions(client: HoistClient, tmp_path: Path) -> None:
    files = []
    for name, data in [("app.war", b"war"), ("notes.txt", b"notes")]:
        (tmp_path / name).write_bytes(data)
        files.append({"name": name, **client.upload(tmp_path / name)})
    a = client.publish(package="org.acme/shop", version="1.4.0.57", files=files)["artifact"]
    assert a["version"] == "1.4.0.57" and a["size"] == 8
    assert client.artifact("org.acme/shop@1.4.0+57")["version"] == "1.4.0.57"


def test_identical_bytes_are_a_no_op(client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore) -> None:
    first = push(client, tmp_path, version="1.0.0")
    before = row_counts(metadata)
    again = push(client, tmp_path, version="1.0.0")
    assert again["outcome"] == "unchanged" and again["artifact"]["digest"] == first["artifact"]["digest"]
    assert row_counts(metadata) == before


def test_a_release_never_takes_other_bytes(client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore) -> None:
    first = push(client, tmp_path, version="1.0.0")
    before = row_counts(metadata)
    with pytest.raises(e.VersionExists) as info:
        push(client, tmp_path, version="1.0.0", content=b"different")
    assert info.value.details["existing_digest"] == first["artifact"]["digest"]
    assert first["artifact"]["digest"] in info.value.message
    assert row_counts(metadata) == before


def test_a_snapshot_may_be_overwritten_in_dev_until_promoted(client: HoistClient, tmp_path: Path) -> None:
    first = push(client, tmp_path, version="1.5.0-SNAPSHOT")
    second = push(client, tmp_path, version="1.5.0-SNAPSHOT", content=b"rebuilt")
    assert second["outcome"] == "overwritten" and second["replaced"] == first["artifact"]["digest"]
    assert client.artifact("shop-api@1.5.0-SNAPSHOT")["digest"] == second["artifact"]["digest"]
    history = [ev["action"] for ev in client.history("shop-api@1.5.0-SNAPSHOT")]
    assert history == ["artifact:push", "artifact:overwrite"]


def test_rc_versions_are_immutable_too(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.5.0-rc.1")
    with pytest.raises(e.VersionExists, match="never change"):
        push(client, tmp_path, version="1.5.0-rc.1", content=b"other")


def test_direct_push_into_prod_is_denied_and_audited(client: HoistClient, tmp_path: Path) -> None:
    with pytest.raises(e.Denied, match="accepts no direct pushes") as info:
        push(client, tmp_path, version="1.0.0", registry="prod")
    assert "promote" in info.value.message
    events = client.history("shop-api")
    assert [ev["action"] for ev in events] == ["artifact:push-refused"]
    assert client.artifacts() == []


def test_max_env_lowers_the_ceiling_but_never_raises_it(client: HoistClient, tmp_path: Path) -> None:
    a = push(client, tmp_path, version="1.0.0", max_env="dev")["artifact"]
    assert a["ceiling"] == "dev"
    with pytest.raises(e.InvalidInput, match="only lower"):
        push(client, tmp_path, version="1.0.1-SNAPSHOT", max_env="prod")


BAD_PUSHES: list[tuple[dict[str, Any], type[e.HoistError], str]] = [
    ({"version": "1.4"}, e.InvalidVersion, "not a version"),
    ({"version": "1.4.0", "registry": "staging"}, e.UnknownRegistry, "unknown registry"),
    ({"version": "1.4.0", "max_env": "qa"}, e.UnknownEnvironment, "unknown environment"),
    ({"version": "1.4.0", "package": "../etc/passwd"}, e.InvalidName, "'..'"),
    ({"version": "1.4.0", "package": "/abs/path"}, e.InvalidName, "absolute"),
    ({"version": "1.4.0+3", "build": "auto"}, e.InvalidInput, "already has a build"),
]


@pytest.mark.parametrize(("options", "error", "message"), BAD_PUSHES)
def test_bad_pushes_change_nothing(
    client: HoistClient,
    tmp_path: Path,
    metadata: SqlMetadataStore,
    options: dict[str, Any],
    error: type[e.HoistError],
    message: str,
) -> None:
    before = row_counts(metadata)
    with pytest.raises(error, match=message):
        push(client, tmp_path, **options)
    assert row_counts(metadata) == before


def test_file_names_with_paths_are_refused(client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore) -> None:
    (tmp_path / "x").write_bytes(b"x")
    blob = client.upload(tmp_path / "x")
    before = row_counts(metadata)
    for name in ["../../etc/cron.d/evil", "/etc/passwd", "a/b", ".."]:
        with pytest.raises(e.InvalidName):
            client.publish(package="p", version="1.0.0", files=[{"name": name, **blob}])
    assert row_counts(metadata) == before


def test_files_must_be_uploaded_first_and_match_their_size(client: HoistClient, tmp_path: Path) -> None:
    ghost = {"name": "a", "digest": "sha256:" + "0" * 64, "size": 1}
    with pytest.raises(e.BlobNotFound, match="has not been uploaded"):
        client.publish(package="p", version="1.0.0", files=[ghost])
    (tmp_path / "y").write_bytes(b"yy")
    blob = client.upload(tmp_path / "y")
    with pytest.raises(e.InvalidInput, match="holds 2 bytes"):
        client.publish(package="p", version="1.0.0", files=[{"name": "y", "digest": blob["digest"], "size": 5}])


def test_malformed_requests_get_the_error_shape(client: HoistClient) -> None:
    response = client.http.post("/api/v1/artifacts", json={"package": "p"})
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "INVALID_INPUT" and "version" in body["message"]
    missing = client.http.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_listing_shows_where_artifacts_sit(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0")
    push(client, tmp_path, package="other", version="0.1.0")
    assert [(a["package"], a["version"]) for a in client.artifacts()] == [("other", "0.1.0"), ("shop-api", "1.0.0")]
    assert client.artifacts(registry="prod") == []
    with pytest.raises(e.PackageNotFound):
        client.artifacts(package="nope")
    with pytest.raises(e.UnknownRegistry):
        client.artifacts(registry="nope")
    with pytest.raises(e.ArtifactNotFound, match="no package"):
        client.artifact("nope@1.0.0")
    with pytest.raises(e.ArtifactNotFound, match="not in registry prod"):
        client.artifact("shop-api@1.0.0", registry="prod")


def test_pushing_stores_each_blob_once(
    client: HoistClient, tmp_path: Path, blobs: FilesystemBlobStore, drain: Callable[[], WorkReport]
) -> None:
    push(client, tmp_path, version="1.0.0")
    push(client, tmp_path, version="1.0.1")  # same file, new version
    drain()
    sboms = {json.loads(client.sbom(f"shop-api@{v}"))["serialNumber"] for v in ("1.0.0", "1.0.1")}
    assert len(sboms) == 2  # each version has its own generated SBOM document
    stored = {str(d) for d in blobs.digests()}
    assert len(stored) == 4  # the file and the empty config once, plus the two SBOMs
    assert {str(Digest.of(b"the build output")), str(EMPTY_DIGEST)} <= stored
