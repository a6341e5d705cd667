"""The reachability function garbage collection will use: referrers and in-progress uploads are live."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from hoist.client import HoistClient
from hoist.domain.digests import Digest
from hoist.domain.manifests import OCI_INDEX
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.blobs import Blobs
from hoist.services.reachability import DEFAULT_GRACE, live_set, sweepable
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.oci_helpers import artifact_manifest, descriptor, image_manifest, index, push_blob, put_manifest

REPO = "dev/shop/api"
LATER = datetime.now(UTC) + timedelta(days=30)


def test_everything_reachable_is_live_and_only_orphans_may_go(
    http: httpx.Client, client: HoistClient, metadata: SqlMetadataStore, blobs: FilesystemBlobStore
) -> None:
    image = image_manifest(http, REPO, layers=2)
    put_manifest(http, REPO, str(Digest.of(image)), image)
    idx = index([descriptor(image)])
    put_manifest(http, REPO, "1.0.0", idx, OCI_INDEX)
    sbom = artifact_manifest(http, REPO, descriptor(idx, OCI_INDEX), "application/vnd.cyclonedx+json", payload=b'{"bom": 1}')
    put_manifest(http, REPO, str(Digest.of(sbom)), sbom)
    signature_of_sbom = artifact_manifest(
        http, REPO, descriptor(sbom), "application/vnd.dev.cosign.artifact.sig.v1+json", payload=b"sig over the sbom"
    )
    put_manifest(http, REPO, str(Digest.of(signature_of_sbom)), signature_of_sbom)
    linked_only = push_blob(http, REPO, b"uploaded, no manifest yet")
    orphan = Digest.of(b"uploaded through the API and never published")
    http.post("/api/v1/uploads", params={"digest": str(orphan)}, content=b"uploaded through the API and never published")
    in_progress = http.post("/api/v1/uploads").json()["upload_id"]
    http.patch(f"/api/v1/uploads/{in_progress}", content=b"half of something")

    live = live_set(metadata)
    assert {Digest.of(image), Digest.of(idx), Digest.of(sbom), Digest.of(signature_of_sbom)} <= live.manifests
    for layer in json.loads(image)["layers"] + json.loads(sbom)["layers"] + json.loads(signature_of_sbom)["layers"]:
        assert Digest.parse(layer["digest"]) in live.blobs
    assert Digest.parse(linked_only["digest"]) in live.blobs
    assert in_progress not in {str(d) for d in blobs.digests()}  # an upload in progress is not a blob: never swept
    assert orphan not in live.blobs
    touched = Blobs(blobs, metadata).touched()
    assert list(sweepable(live, blobs.digests(), touched, now=LATER, grace=DEFAULT_GRACE)) == [orphan]
    now = datetime.now(UTC)  # still within the grace period
    assert list(sweepable(live, blobs.digests(), touched, now=now, grace=DEFAULT_GRACE)) == []


def test_a_version_in_the_rollback_window_cannot_be_deleted_and_stays_live(
    http: httpx.Client, client: HoistClient, metadata: SqlMetadataStore, blobs: FilesystemBlobStore
) -> None:
    old = image_manifest(http, REPO)
    put_manifest(http, REPO, "1.0.0", old)
    client.deploy("shop/api@1.0.0", environment="dev")
    put_manifest(http, REPO, "1.1.0", image_manifest(http, REPO))
    client.deploy("shop/api@1.1.0", environment="dev")
    refused = http.delete(f"/v2/{REPO}/manifests/{Digest.of(old)}")  # not running any more, but rollback needs it
    assert refused.status_code == 403 and "rollback window of dev" in refused.json()["errors"][0]["message"]
    live = live_set(metadata)
    assert Digest.of(old) in live.manifests  # rollback may still need it
    touched = Blobs(blobs, metadata).touched()
    assert list(sweepable(live, blobs.digests(), touched, now=LATER, grace=DEFAULT_GRACE)) == []
