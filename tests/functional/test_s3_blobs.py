"""The whole app on the S3 blob store (SeaweedFS, which checks signatures): blob GETs redirect to
presigned URLs a client fetches without credentials (and an altered one is refused), and a
promotion moves no bytes (no S3 copy: a pointer move in the metadata store)."""

from __future__ import annotations

import json

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain.attestations import VSA
from hoist.domain.digests import Digest
from hoist.storage.s3 import S3BlobStore
from tests.conftest import s3_store
from tests.functional.oci_helpers import image_manifest, push_blob, put_manifest
from tests.seaweedfs import SeaweedServer

DEV, PROD = "dev/shop/api", "prod/shop/api"
LARGE = bytes(range(256)) * 8192  # 2 MiB: past what is answered inline, so redirected


@pytest.fixture
def blobs(s3_place: tuple[SeaweedServer, str]) -> S3BlobStore:
    """Overrides the folder store: the app under test keeps its blobs in S3."""
    return s3_store(*s3_place)


def objects(store: S3BlobStore) -> set[str]:
    pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=store.prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_a_blob_get_redirects_to_a_presigned_url_that_works_without_credentials_and_not_altered(
    http: httpx.Client, blobs: S3BlobStore
) -> None:
    digest = push_blob(http, DEV, LARGE)["digest"]
    moved = http.get(f"/v2/{DEV}/blobs/{digest}")
    assert moved.status_code == 307, moved.text
    location = moved.headers["location"]
    assert location.startswith(blobs.client.meta.endpoint_url) and "X-Amz-Signature=" in location
    fetched = httpx.get(location)  # a plain client: no AWS credentials, only the URL
    assert fetched.status_code == 200 and fetched.content == LARGE
    signature = location.rsplit("X-Amz-Signature=", 1)[1][:64]
    altered = location.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert httpx.get(altered).status_code == 403
    other_blob = location.replace(Digest.parse(digest).hex, "f" * 64)
    assert httpx.get(other_blob).status_code == 403  # the signature covers the key
    assert httpx.get(location.replace(f"/{blobs.bucket}/", "/other-bucket/")).status_code == 403


def test_a_promotion_moves_no_bytes_in_s3(http: httpx.Client, client: HoistClient, blobs: S3BlobStore) -> None:
    put_manifest(http, DEV, "1.4.0_58", image_manifest(http, DEV, layers=2))
    client.attest("shop/api@1.4.0+58", type="unit-tests", result="pass")
    before = objects(blobs)
    assert client.promote("shop/api@1.4.0+58", to="prod")["status"] == "promoted"
    summary = http.get(f"/v2/{PROD}/referrers/{Digest.of(http.get(f'/v2/{PROD}/manifests/1.4.0_58').content)}")
    (vsa,) = [m for m in summary.json()["manifests"] if m.get("annotations", {}).get("dev.hoist.predicateType") == VSA]
    envelope = json.loads(http.get(f"/v2/{PROD}/manifests/{vsa['digest']}").content)["layers"][0]["digest"]
    assert objects(blobs) - before == {blobs.blob_key(Digest.parse(envelope))}  # only the summary Hoist signed
    assert before <= objects(blobs)
