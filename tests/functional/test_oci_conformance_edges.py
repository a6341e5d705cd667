"""What the distribution-spec conformance suite asks of /v2 beyond the common path, checked in
process (tests/e2e/test_oci_conformance.py runs the whole suite against ``hoist serve``)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from hoist.domain.digests import Digest
from tests.functional.oci_helpers import push_blob

REPO = "dev/shop/api"


def test_a_reference_that_cannot_be_a_tag_names_no_manifest(http: httpx.Client) -> None:
    # spec, pulling manifests: "If the manifest is not found in the repository, the response code MUST be 404"
    push_blob(http, REPO, b"the repository exists")
    got = http.get(f"/v2/{REPO}/manifests/.INVALID_MANIFEST_NAME")
    assert got.status_code == 404 and got.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert http.head(f"/v2/{REPO}/manifests/.INVALID_MANIFEST_NAME").status_code == 404


def test_a_mount_without_from_links_a_blob_the_client_may_read(http: httpx.Client, token_for: Callable[..., str]) -> None:
    # spec, mounting a blob from another repository: without from=, a registry that finds the blob
    # by itself (automatic content discovery) may mount it: 201 with its Location
    blob = push_blob(http, REPO, b"a layer two repositories share")
    mounted = http.post("/v2/dev/other/blobs/uploads/", params={"mount": blob["digest"]})
    assert mounted.status_code == 201 and mounted.headers["location"] == f"/v2/dev/other/blobs/{blob['digest']}"
    assert http.get(f"/v2/dev/other/blobs/{blob['digest']}").status_code == 200
    unknown = http.post("/v2/dev/other/blobs/uploads/", params={"mount": str(Digest.of(b"never stored"))})
    assert unknown.status_code == 202 and unknown.headers["location"].startswith("/v2/dev/other/blobs/uploads/")
    # knowing a digest is no right to its bytes: a pusher who may not read dev gets an upload session
    blind = {"Authorization": f"Bearer {token_for('pusher', grants=['push:dev'])}"}
    refused = http.post("/v2/dev/third/blobs/uploads/", params={"mount": blob["digest"]}, headers=blind)
    assert refused.status_code == 202 and "/blobs/uploads/" in refused.headers["location"]
    assert http.get(f"/v2/dev/third/blobs/{blob['digest']}").status_code == 404


def test_a_chunk_whose_content_range_ends_before_it_starts_is_a_416_and_changes_nothing(http: httpx.Client) -> None:
    # the chunk's Content-Range is read apart from a GET's Range, but answers alike: 416, as for a chunk
    # out of order (spec: chunked uploads), never taken as it comes
    start = http.post(f"/v2/{REPO}/blobs/uploads/")
    location = start.headers["location"]
    assert http.patch(location, content=b"abcd", headers={"Content-Range": "0-3"}).status_code == 202
    backwards = http.patch(location, content=b"ef", headers={"Content-Range": "4-2"})
    assert backwards.status_code == 416 and backwards.json()["errors"][0]["code"] == "BLOB_UPLOAD_INVALID"
    assert http.get(location).headers["range"] == "0-3"
    upload_id = http.post("/api/v1/uploads", content=b"abcd").json()["upload_id"]
    api = http.patch(f"/api/v1/uploads/{upload_id}", content=b"ef", headers={"Content-Range": "4-2"})
    assert api.status_code == 416 and api.json()["error"]["code"] == "UPLOAD_OUT_OF_ORDER"
    assert http.get(f"/api/v1/uploads/{upload_id}").json()["offset"] == 4
