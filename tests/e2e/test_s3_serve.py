"""``hoist serve`` with its blobs in S3 (``HOIST_STORAGE_URL``, the standard AWS variables) against
a real SeaweedFS: skopeo pushes an image and pulls it back byte-identical, and a blob GET answers
307 to a presigned URL that a client without credentials fetches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.demo import fresh_server, new_admin_token
from tests.e2e.conftest import Server
from tests.e2e.test_oci_clients import bearer, build_image, host, logged_in, run, tool
from tests.seaweedfs import SeaweedServer

pytestmark = pytest.mark.slow
__all__ = ["logged_in"]  # skopeo logs in to the server below, as in test_oci_clients


@pytest.fixture
def server(tmp_path: Path, s3_place: tuple[SeaweedServer, str]) -> Iterator[Server]:
    seaweed, prefix = s3_place
    data = tmp_path / "data"
    data.mkdir()
    env = {
        "HOIST_DATABASE_URL": f"sqlite:///{data / 'hoist.db'}",
        "HOIST_STORAGE_URL": f"s3://{seaweed.bucket_name}/{prefix}",
        **seaweed.environment(),
    }
    token = new_admin_token()
    with fresh_server(data, env, admin_token=token, args=["--no-worker"]) as url:
        yield Server(url, data, env["HOIST_DATABASE_URL"], env, token)


def test_skopeo_pushes_and_pulls_through_s3_and_blob_gets_redirect_to_presigned_urls(
    server: Server, tmp_path: Path, s3_place: tuple[SeaweedServer, str]
) -> None:
    seaweed, prefix = s3_place
    skopeo = tool("skopeo")
    local = build_image(tmp_path, size=12 * 1024 * 1024)  # a layer of several S3 parts
    dev = f"docker://{host(server)}/dev/demo/app"
    run(skopeo, "copy", "--dest-tls-verify=false", "oci:" + str(tmp_path / "img") + ":v1", f"{dev}:1.0.0")
    run(skopeo, "copy", "--src-tls-verify=false", f"{dev}:1.0.0", f"dir:{tmp_path / 'pulled'}")
    manifest = (tmp_path / "pulled" / "manifest.json").read_bytes()
    assert "sha256:" + hashlib.sha256(manifest).hexdigest() == local
    layers = json.loads(manifest)["layers"]
    for layer in layers:
        hex_ = layer["digest"].removeprefix("sha256:")
        pulled = (tmp_path / "pulled" / hex_).read_bytes()
        assert pulled == (tmp_path / "img" / "blobs" / "sha256" / hex_).read_bytes()
    # the bytes are in S3, not in the data folder
    listed = seaweed.client().list_objects_v2(Bucket=seaweed.bucket_name, Prefix=f"{prefix}/blobs/sha256/")
    stored = {item["Key"].rsplit("/", 1)[1] for item in listed.get("Contents", [])}
    assert {layer["digest"].removeprefix("sha256:") for layer in layers} <= stored
    blobs_folder = server.data / "blobs"
    assert not blobs_folder.exists() or [p for p in blobs_folder.rglob("*") if p.is_file()] == []
    # a blob GET: 307 to S3, fetched there without credentials
    layer = max(layers, key=lambda d: d["size"])
    moved = httpx.get(f"{server.url}/v2/dev/demo/app/blobs/{layer['digest']}", headers=bearer(server))
    assert moved.status_code == 307
    assert moved.headers["location"].startswith(f"{seaweed.endpoint}/{seaweed.bucket_name}/{prefix}/blobs/sha256/")
    fetched = httpx.get(moved.headers["location"])
    assert fetched.status_code == 200 and "sha256:" + hashlib.sha256(fetched.content).hexdigest() == layer["digest"]
