"""A descriptor's ``size`` is a promise to every client that fetches it: a manifest whose config,
layer or index child declares a size the stored content does not have is refused on /v2, and one
stored before that check is reported by fsck."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from hoist.cli.exits import INTEGRITY
from hoist.client import HoistClient
from hoist.domain.manifests import parse_manifest
from hoist.domain.models import OCI
from hoist.metadata.sql.store import SqlMetadataStore
from tests.functional.helpers import row_counts
from tests.functional.oci_helpers import descriptor, image_manifest, index, put_manifest
from tests.functional.test_drills_and_fsck import hoist

REPO = "dev/shop/api"


@pytest.fixture
def ci(http: httpx.Client, token_for: Callable[..., str]) -> httpx.Client:
    """/v2 as the CI robot: the least-privileged principal that pushes into dev."""
    http.headers["Authorization"] = f"Bearer {token_for('ci', ['role:ci'], robot=True)}"
    return http


def lying(raw: bytes, where: str, size: int) -> tuple[bytes, str]:
    """The manifest with the descriptor at ``where`` (config or layers[i]) declaring ``size``."""
    doc = json.loads(raw)
    target = doc["config"] if where == "config" else doc["layers"][int(where[len("layers[") : -1])]
    target["size"] = size
    return json.dumps(doc).encode(), target["digest"]


@pytest.mark.parametrize(("where", "stored"), [("layers[1]", 100_000), ("config", None)])
def test_a_descriptor_whose_size_is_not_the_stored_blobs_is_refused_and_changes_nothing(
    ci: httpx.Client, metadata: SqlMetadataStore, where: str, stored: int | None
) -> None:
    raw = image_manifest(ci, REPO, layers=2, layer_size=100_000)
    bad, digest = lying(raw, where, 5)
    before = row_counts(metadata)
    response = put_manifest(ci, REPO, "1.0.0_1", bad)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    real = stored if stored is not None else json.loads(raw)["config"]["size"]
    assert error["code"] == "MANIFEST_INVALID"
    assert error["detail"] == {"descriptor": where, "digest": digest, "declared": 5, "stored": real}
    assert f"{where} declares {digest} to be 5 bytes, but the stored content holds {real}" in error["message"]
    assert row_counts(metadata) == before
    assert ci.get(f"/v2/{REPO}/manifests/1.0.0_1").status_code == 404
    assert put_manifest(ci, REPO, "1.0.0_1", raw).status_code == 201  # the honest manifest goes in


def test_an_index_child_whose_size_is_not_the_stored_manifests_length_is_refused(
    ci: httpx.Client, metadata: SqlMetadataStore
) -> None:
    child = image_manifest(ci, REPO)
    assert put_manifest(ci, REPO, str(parse_manifest(child).digest), child).status_code == 201
    wrong = {**descriptor(child), "size": len(child) + 7}
    before = row_counts(metadata)
    response = put_manifest(ci, REPO, "2.0.0_1", index([wrong]), "application/vnd.oci.image.index.v1+json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == "MANIFEST_INVALID"
    assert error["detail"] == {
        "descriptor": "manifests[0]",
        "digest": wrong["digest"],
        "declared": len(child) + 7,
        "stored": len(child),
    }
    assert row_counts(metadata) == before


def test_fsck_reports_each_live_manifest_whose_sizes_disagree_with_the_stored_content(
    client_as: Callable[..., HoistClient], ci: httpx.Client, metadata: SqlMetadataStore
) -> None:
    admin = client_as("root")  # fsck needs admin
    child = image_manifest(ci, REPO, layer_size=100_000)
    bad, layer = lying(child, "layers[0]", 5)
    wrong_child = {**descriptor(bad), "size": len(bad) + 1}
    # stored the way a Hoist without these checks stored them
    now = datetime.now(UTC)
    with metadata.session() as s:
        s.artifacts.ensure_package("shop/api", OCI, now=now)
        for raw in (bad, index([wrong_child])):
            manifest = parse_manifest(raw)
            s.manifests.add(manifest, now=now)
            s.repositories.add_manifest("dev", "shop/api", manifest.digest, now=now)
    report = admin.fsck()
    assert not report["ok"] and not report["missing"] and not report["corrupt"]
    bad_digest, index_digest = str(parse_manifest(bad).digest), str(parse_manifest(index([wrong_child])).digest)
    assert sorted(report["mismatched"], key=lambda m: str(m["manifest"])) == sorted(
        [
            {"manifest": bad_digest, "descriptor": "layers[0]", "digest": layer, "declared": 5, "stored": 100_000},
            {
                "manifest": index_digest,
                "descriptor": "manifests[0]",
                "digest": bad_digest,
                "declared": len(bad) + 1,
                "stored": len(bad),
            },
        ],
        key=lambda m: str(m["manifest"]),
    )
    code, text = hoist(admin, "fsck")
    assert code == INTEGRITY
    assert f"✗ size: {bad_digest} layers[0] declares {layer} to be 5 bytes, stored: 100000" in text
