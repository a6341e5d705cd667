"""Referrers, and images promoted by digest with everything that belongs to them."""

from __future__ import annotations

import json

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain.attestations import IN_TOTO, VSA
from hoist.domain.digests import Digest
from hoist.domain.manifests import OCI_INDEX
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.oci_helpers import (
    artifact_manifest,
    descriptor,
    image_manifest,
    index,
    oci_error,
    push_blob,
    put_manifest,
)

DEV, PROD = "dev/shop/api", "prod/shop/api"
SBOM = "application/vnd.cyclonedx+json"
SIG = "application/vnd.dev.cosign.artifact.sig.v1+json"


def test_referrers_api_lists_and_filters(http: httpx.Client) -> None:
    image = image_manifest(http, DEV)
    put_manifest(http, DEV, "1.0.0", image)
    subject = descriptor(image)
    sbom = artifact_manifest(http, DEV, subject, SBOM, annotations={"org.example": "sbom"})
    r = put_manifest(http, DEV, str(Digest.of(sbom)), sbom)
    assert r.status_code == 201 and r.headers["oci-subject"] == subject["digest"]
    sig = artifact_manifest(http, DEV, subject, SIG, payload=b"signature")
    put_manifest(http, DEV, str(Digest.of(sig)), sig)
    listed = http.get(f"/v2/{DEV}/referrers/{subject['digest']}")
    assert listed.status_code == 200 and listed.headers["content-type"] == OCI_INDEX
    body = listed.json()
    assert body["schemaVersion"] == 2 and body["mediaType"] == OCI_INDEX
    assert [(m["digest"], m["artifactType"]) for m in body["manifests"]] == [
        (str(Digest.of(sbom)), SBOM),
        (str(Digest.of(sig)), SIG),
    ]
    assert body["manifests"][0]["annotations"] == {"org.example": "sbom"}
    filtered = http.get(f"/v2/{DEV}/referrers/{subject['digest']}", params={"artifactType": SBOM})
    assert filtered.headers["oci-filters-applied"] == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [str(Digest.of(sbom))]
    empty = http.get(f"/v2/{DEV}/referrers/sha256:{'0' * 64}")
    assert empty.status_code == 200 and empty.json()["manifests"] == []
    assert oci_error(http.get(f"/v2/{DEV}/referrers/sha256:bad")) == "DIGEST_INVALID"


def _release_with_evidence(http: httpx.Client, client: HoistClient) -> dict[str, bytes]:
    """A multi-platform 1.4.0_58 in dev with an SBOM referrer, a cosign signature tag and a movable tag."""
    children = []
    for arch in ("amd64", "arm64"):
        raw = image_manifest(http, DEV, config=json.dumps({"architecture": arch}).encode())
        put_manifest(http, DEV, str(Digest.of(raw)), raw)
        children.append({**descriptor(raw), "platform": {"architecture": arch, "os": "linux"}})
    idx = index(children)
    assert put_manifest(http, DEV, "1.4.0_58", idx, OCI_INDEX).status_code == 201
    subject = descriptor(idx, OCI_INDEX)
    sbom = artifact_manifest(http, DEV, subject, SBOM)
    put_manifest(http, DEV, str(Digest.of(sbom)), sbom)
    cosign = image_manifest(http, DEV, layers=1)
    sig_tag = f"sha256-{Digest.of(idx).hex}.sig"
    assert put_manifest(http, DEV, sig_tag, cosign).status_code == 201
    put_manifest(http, DEV, "latest", idx, OCI_INDEX)
    client.attest("shop/api@1.4.0+58", type="unit-tests", result="pass")
    return {"index": idx, "sbom": sbom, "signature": cosign, "sig_tag": sig_tag.encode()}


def test_promotion_carries_children_referrers_and_signature_tags(
    http: httpx.Client, client: HoistClient, blobs: FilesystemBlobStore
) -> None:
    pushed = _release_with_evidence(http, client)
    before = sorted(blobs.digests())
    assert oci_error(http.get(f"/v2/{PROD}/manifests/1.4.0_58")) == "MANIFEST_UNKNOWN"
    result = client.promote("shop/api@1.4.0+58", to="prod")
    assert result["status"] == "promoted"
    summary = http.get(f"/v2/{PROD}/referrers/{Digest.of(pushed['index'])}?artifactType=application/vnd.in-toto%2Bjson")
    (vsa,) = [m for m in summary.json()["manifests"] if m["annotations"]["dev.hoist.predicateType"] == VSA]
    envelope = json.loads(http.get(f"/v2/{PROD}/manifests/{vsa['digest']}").content)["layers"][0]["digest"]
    assert sorted(map(str, set(blobs.digests()) - set(before))) == [envelope]  # no artifact byte copied: only the VSA
    idx_digest = str(Digest.of(pushed["index"]))
    got = http.get(f"/v2/{PROD}/manifests/1.4.0_58")
    assert got.status_code == 200 and got.headers["docker-content-digest"] == idx_digest and got.content == pushed["index"]
    for child in json.loads(pushed["index"])["manifests"]:
        assert http.get(f"/v2/{PROD}/manifests/{child['digest']}").status_code == 200
        layer = json.loads(http.get(f"/v2/{PROD}/manifests/{child['digest']}").content)["layers"][0]
        assert http.head(f"/v2/{PROD}/blobs/{layer['digest']}").status_code == 200
    referrers = http.get(f"/v2/{PROD}/referrers/{idx_digest}").json()["manifests"]
    carried = sorted(m["digest"] for m in referrers if m["artifactType"] != IN_TOTO)
    assert carried == [str(Digest.of(pushed["sbom"]))]  # besides the in-toto statements: the test result, the VSA
    assert len(referrers) == 3
    sig_tag = pushed["sig_tag"].decode()
    assert http.get(f"/v2/{PROD}/manifests/{sig_tag}").content == pushed["signature"]
    assert http.get(f"/v2/{PROD}/tags/list").json()["tags"] == ["1.4.0_58", sig_tag]  # not "latest"
    event = client.history("shop/api@1.4.0+58")[-1]
    assert event["action"] == "artifact:promote" and event["details"]["carried"] == 6  # + the test result statement


def test_prod_refuses_pushes_but_accepts_signatures_of_what_it_holds(http: httpx.Client, client: HoistClient) -> None:
    pushed = _release_with_evidence(http, client)
    client.promote("shop/api@1.4.0+58", to="prod")
    other = image_manifest(http, PROD)  # blob uploads are allowed; manifests are not
    denied = put_manifest(http, PROD, "9.9.9", other)
    assert denied.status_code == 403 and "accepts no direct pushes" in denied.json()["errors"][0]["message"]
    assert oci_error(put_manifest(http, PROD, "latest", pushed["index"], OCI_INDEX)) == "DENIED"
    subject = descriptor(pushed["index"], OCI_INDEX)
    late_signature = artifact_manifest(http, PROD, subject, SIG, payload=b"signed in prod")
    assert put_manifest(http, PROD, str(Digest.of(late_signature)), late_signature).status_code == 201
    att_tag = f"sha256-{subject['digest'].split(':')[1]}.att"
    attestation = image_manifest(http, PROD)
    assert put_manifest(http, PROD, att_tag, attestation).status_code == 201  # cosign tags stay appendable
    stranger = artifact_manifest(http, PROD, descriptor(b"not here"), SIG)
    assert oci_error(put_manifest(http, PROD, str(Digest.of(stranger)), stranger)) == "DENIED"
    refusals = [ev for ev in client.history("shop/api") if ev["action"] == "artifact:push-refused"]
    assert len(refusals) == 3


def test_a_sealed_version_tag_cannot_be_repointed_anywhere(http: httpx.Client, client: HoistClient) -> None:
    pushed = _release_with_evidence(http, client)
    client.promote("shop/api@1.4.0+58", to="prod")
    other = image_manifest(http, DEV)
    r = put_manifest(http, DEV, "1.4.0_58", other)
    assert r.status_code == 403 and oci_error(r) == "DENIED"
    assert str(Digest.of(pushed["index"])) in r.json()["errors"][0]["message"]


@pytest.mark.parametrize("registry", ["prod"])
def test_sealed_content_cannot_be_deleted(http: httpx.Client, client: HoistClient, registry: str) -> None:
    pushed = _release_with_evidence(http, client)
    client.promote("shop/api@1.4.0+58", to="prod")
    digest = str(Digest.of(pushed["index"]))
    assert oci_error(http.delete(f"/v2/{registry}/shop/api/manifests/{digest}")) == "DENIED"
    layer = push_blob(http, DEV, b"x")
    assert oci_error(http.delete(f"/v2/{registry}/shop/api/blobs/{layer['digest']}")) == "DENIED"
