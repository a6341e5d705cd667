"""Error messages a new user reads: a huge value is never echoed whole, examples are real ones."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.domain.names import clip
from hoist.services.serving import CHECKED_UP_TO
from hoist.storage.filesystem import FilesystemBlobStore

LONG = "a" * 5000
FILE = {"name": "app.tgz", "digest": "sha256:" + hashlib.sha256(b"x").hexdigest(), "size": 1}
MANIFEST = {"content-type": "application/vnd.oci.image.manifest.v1+json"}

REQUESTS: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    "package": lambda h: h.post("/api/v1/artifacts", json={"package": LONG, "version": "1.0.0", "files": [FILE]}),
    "version": lambda h: h.post("/api/v1/artifacts", json={"package": "x", "version": "1." + LONG, "files": [FILE]}),
    "file": lambda h: h.post(
        "/api/v1/artifacts", json={"package": "x", "version": "1.0.0", "files": [{**FILE, "name": LONG + "/"}]}
    ),
    "reference": lambda h: h.get(f"/api/v1/artifacts/{LONG}"),
    "digest": lambda h: h.get(f"/api/v1/artifacts/x@sha256:{LONG}"),
    "registry": lambda h: h.post("/api/v1/promotions", json={"ref": "x@1.0.0", "to": LONG}),
    "environment": lambda h: h.post("/api/v1/deployments", json={"ref": "x@1.0.0", "environment": LONG}),
    "listed registry": lambda h: h.get(f"/api/v1/artifacts?registry={LONG}"),
    "repository": lambda h: h.get(f"/v2/{LONG}/tags/list"),
    "oci package": lambda h: h.get(f"/v2/dev/{LONG}/tags/list"),
    "tag": lambda h: h.put(f"/v2/dev/x/manifests/{LONG}", content=b"{}", headers=MANIFEST),
    "oci digest": lambda h: h.get(f"/v2/dev/x/blobs/sha256:{LONG}"),
    "attestation type": lambda h: h.post("/api/v1/attestations", json={"ref": "x@1.0.0", "type": LONG, "result": "pass"}),
    "permission": lambda h: h.post("/api/v1/grants", json={"principal": "user:alice", "grant": LONG}),
    "role": lambda h: h.post("/api/v1/grants", json={"principal": "user:alice", "grant": "role:" + LONG}),
    "permission target": lambda h: h.post("/api/v1/grants", json={"principal": "user:alice", "grant": "push:" + LONG}),
}


@pytest.mark.parametrize("what", list(REQUESTS))
def test_error_quotes_a_long_value_cut_short_with_its_length(http: httpx.Client, what: str) -> None:
    response = REQUESTS[what](http)
    assert response.status_code in {400, 404}, response.text[:300]
    assert len(response.text) < 1000, response.text[:300]
    body = response.json()
    error = body["error"] if "error" in body else body["errors"][0]
    assert "characters)" in error["message"], error["message"]


def test_clip_keeps_short_values_and_cuts_long_ones_saying_how_long() -> None:
    assert clip("shop-api") == "shop-api"
    assert clip("a" * 64) == "a" * 64
    assert clip(LONG) == "a" * 64 + "… (5000 characters)"
    assert clip("é" * 100, limit=3) == "ééé… (100 characters)"


def test_a_repository_without_a_package_gets_a_real_example(http: httpx.Client) -> None:
    response = http.get("/v2/dev/tags/list")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "NAME_INVALID"
    assert "e.g. dev/shop/api" in error["message"]
    assert "dev/dev" not in error["message"]


def test_a_pull_says_whether_the_size_or_the_digest_is_wrong(
    client: HoistClient, tmp_path: Path, blobs: FilesystemBlobStore
) -> None:
    # past what the server re-hashes before it answers, so the rot reaches the client, which must say it
    size = CHECKED_UP_TO + 1024 * 1024
    src = tmp_path / "app.bin"
    src.write_bytes(b"x" * size)
    blob = client.upload(src)
    with pytest.raises(e.IntegrityFailure) as wrong_size:
        client.download(blob["digest"], 5, tmp_path / "small.bin")
    assert wrong_size.value.message == (
        f"small.bin: received {size} bytes, but 5 bytes were recorded; their digest {blob['digest']} is the one recorded"
    )
    stored = blobs.path(Digest.parse(blob["digest"]))
    assert stored is not None
    stored.write_bytes(b"y" * size)  # same size, other bytes: rot on the server's disk
    with pytest.raises(e.IntegrityFailure) as wrong_digest:
        client.download(blob["digest"], size, tmp_path / "rotten.bin")
    actual = Digest.of(b"y" * size)
    assert wrong_digest.value.message == (
        f"rotten.bin: received {size} bytes, as recorded, but they hash to {actual}, not {blob['digest']}"
    )
    with pytest.raises(e.IntegrityFailure) as both:
        client.download(blob["digest"], 5, tmp_path / "rotten.bin")
    assert both.value.message.startswith(f"rotten.bin: both size and digest are wrong: received {size} bytes")
    assert not (tmp_path / "small.bin").exists()
    assert not (tmp_path / "rotten.bin").exists()
