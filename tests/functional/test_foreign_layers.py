"""Non-distributable (foreign) layers: the image spec lets a manifest name layers whose bytes live
at their ``urls`` and were never uploaded. Hoist accepts them, serves the manifest byte-exact,
promotes it, and leaves them out of every check that expects stored bytes; a foreign layer that
*is* stored is checked like any other."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain.digests import Digest
from hoist.metadata.sql.store import SqlMetadataStore
from tests.functional.helpers import row_counts
from tests.functional.oci_helpers import image_manifest, push_blob, put_manifest

REPO = "dev/win/app"
NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"


@pytest.fixture
def ci(http: httpx.Client, token_for: Callable[..., str]) -> httpx.Client:
    """/v2 as the CI robot: the least-privileged principal that pushes into dev."""
    http.headers["Authorization"] = f"Bearer {token_for('ci', ['role:ci'], robot=True)}"
    return http


def foreign(media_type: str, size: int = 4096, *, urls: bool = True) -> dict[str, Any]:
    """A layer descriptor for bytes this registry never received."""
    layer: dict[str, Any] = {"mediaType": media_type, "digest": str(Digest.of(os.urandom(size))), "size": size}
    if urls:
        layer["urls"] = [f"https://mcr.example.com/layers/{layer['digest']}"]
    return layer


def with_layers(raw: bytes, *layers: dict[str, Any]) -> bytes:
    doc = json.loads(raw)
    doc["layers"] = [*layers, *doc["layers"]]
    return json.dumps(doc, indent=1).encode()  # indented: served back as pushed, not re-serialised


def test_a_manifest_with_foreign_layers_is_accepted_served_byte_exact_promoted_and_checks_clean(
    ci: httpx.Client, client_as: Callable[..., HoistClient], token_for: Callable[..., str]
) -> None:
    raw = with_layers(
        image_manifest(ci, REPO),
        foreign(NONDISTRIBUTABLE),
        foreign(DOCKER_FOREIGN),
        foreign("application/vnd.oci.image.layer.nondistributable.v1.tar", urls=False),
        foreign("application/vnd.oci.image.layer.v1.tar+gzip"),  # any descriptor carrying urls
    )
    pushed = put_manifest(ci, REPO, "1.0.0_1", raw)
    assert pushed.status_code == 201, pushed.text
    for reference in ("1.0.0_1", str(Digest.of(raw))):
        served = ci.get(f"/v2/{REPO}/manifests/{reference}")
        assert served.status_code == 200 and served.content == raw
    ci_client = client_as("ci", ["role:ci"])
    ci_client.attest("win/app@1.0.0+1", type="unit-tests", result="pass")
    client_as("rel", ["role:release"]).promote("win/app@1.0.0+1", to="prod")
    release = {"Authorization": f"Bearer {token_for('rel')}"}
    assert ci.get("/v2/prod/win/app/manifests/1.0.0_1", headers=release).content == raw
    admin = client_as("root")  # fsck and gc need admin
    report = admin.fsck()
    assert report["ok"] and not report["missing"] and not report["mismatched"], report
    admin.collect_garbage()
    assert admin.fsck()["ok"]
    assert ci.get("/v2/prod/win/app/manifests/1.0.0_1", headers=release).content == raw


def test_a_foreign_layer_that_is_stored_is_still_checked(ci: httpx.Client, metadata: SqlMetadataStore) -> None:
    stored = push_blob(ci, REPO, os.urandom(3000))
    lying = {"mediaType": NONDISTRIBUTABLE, "digest": stored["digest"], "size": 5, "urls": ["https://x.example/l"]}
    base = image_manifest(ci, REPO)
    before = row_counts(metadata)
    refused = put_manifest(ci, REPO, "1.0.0_1", with_layers(base, lying))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["detail"] == {
        "descriptor": "layers[0]",
        "digest": stored["digest"],
        "declared": 5,
        "stored": 3000,
    }
    assert row_counts(metadata) == before
    honest = {**lying, "size": 3000}
    assert put_manifest(ci, REPO, "1.0.0_1", with_layers(base, honest)).status_code == 201
    assert ci.get(f"/v2/{REPO}/blobs/{stored['digest']}").status_code in {200, 307}


def test_a_missing_layer_that_is_not_foreign_is_still_refused(ci: httpx.Client) -> None:
    ghost = foreign("application/vnd.oci.image.layer.v1.tar+gzip", urls=False)
    refused = put_manifest(ci, REPO, "1.0.0_1", with_layers(image_manifest(ci, REPO), ghost))
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_foreign_urls_must_be_a_list_of_urls(ci: httpx.Client) -> None:
    bad = {**foreign(NONDISTRIBUTABLE), "urls": "https://x.example/l"}
    refused = put_manifest(ci, REPO, "1.0.0_1", with_layers(image_manifest(ci, REPO), bad))
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "MANIFEST_INVALID"
    assert "layers[0].urls" in refused.json()["errors"][0]["message"]


def test_a_rollback_drill_re_hashes_what_is_stored_and_skips_foreign_layers(
    ci: httpx.Client, client_as: Callable[..., HoistClient]
) -> None:
    ci_client = client_as("ci", ["role:ci"])
    for build in (1, 2):
        raw = with_layers(image_manifest(ci, REPO), foreign(NONDISTRIBUTABLE))
        assert put_manifest(ci, REPO, f"1.0.0_{build}", raw).status_code == 201
        ci_client.deploy(f"win/app@1.0.0+{build}", environment="dev")
    report = ci_client.drill("dev", "win/app")
    assert report["ready"], report
    assert [t["ref"] for t in report["packages"][0]["targets"]] == ["win/app@1.0.0+1"]
