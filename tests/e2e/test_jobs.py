"""SBOMs off the request path with a real ``hoist serve``: the manifest PUT answers before the SBOM
exists ("pending"), ``hoist worker --once`` makes it; by default the server's own worker does."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.demo import fresh_server, new_admin_token
from tests.e2e.conftest import Server, drain, server_env
from tests.e2e.test_oci_clients import bearer, hoist

pytestmark = pytest.mark.slow
STATUS = b"Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\n\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def serving(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """``hoist serve`` exactly as users run it: its job worker in-process."""
    data = tmp_path / "data"
    data.mkdir()
    env = server_env(request, data)
    token = new_admin_token()
    with fresh_server(data, env, admin_token=token) as url:
        yield Server(url, data, env["HOIST_DATABASE_URL"], env, token)


def layer() -> bytes:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as tar:
        for name, content in {"etc/os-release": b'ID=debian\nVERSION_ID="12"\n', "var/lib/dpkg/status": STATUS}.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(packed.getvalue(), mtime=0)


def push_image(server: Server, version: str) -> httpx.Response:
    """An image through the OCI API: two monolithic blob uploads, then the manifest PUT."""
    auth = bearer(server)
    descriptors = []
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
    for media_type, blob in (
        ("application/vnd.oci.image.config.v1+json", config),
        ("application/vnd.oci.image.layer.v1.tar+gzip", layer()),
    ):
        digest = f"sha256:{hashlib.sha256(blob).hexdigest()}"
        done = httpx.post(
            f"{server.url}/v2/dev/shop/web/blobs/uploads/", params={"digest": digest}, content=blob, headers=auth
        )
        assert done.status_code == 201, done.text
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(blob)})
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptors[0],
        "layers": descriptors[1:],
    }
    headers = {**auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    return httpx.put(f"{server.url}/v2/dev/shop/web/manifests/{version}", content=json.dumps(manifest), headers=headers)


def sbom_state(server: Server, ref: str) -> str:
    state: str = httpx.get(f"{server.url}/api/v1/artifacts/{ref}", headers=bearer(server)).json()["sbom"]
    return state


def test_the_push_answers_before_the_sbom_and_hoist_worker_makes_it(server: Server) -> None:
    assert push_image(server, "1.0.0").status_code == 201
    assert sbom_state(server, "shop/web@1.0.0") == "pending"  # this server runs no worker: nothing made it yet
    queue = json.loads(hoist(server, "jobs", "--json").stdout)
    assert queue["pending"] == 1 and queue["failed"] == []
    assert drain(server) == {"ran": 1, "failed": []}
    assert sbom_state(server, "shop/web@1.0.0") == "present"
    found = json.loads(hoist(server, "sbom", "affected", "pkg:deb/debian/openssl", "--json").stdout)
    assert [a["package"] for a in found["artifacts"]] == ["shop/web"]


def test_hoist_serve_makes_the_sbom_in_its_own_worker(serving: Server) -> None:
    assert push_image(serving, "2.0.0").status_code == 201
    deadline = time.monotonic() + 120  # a loaded CI box: the worker polls its queue about every second
    while (state := sbom_state(serving, "shop/web@2.0.0")) == "pending":
        assert time.monotonic() < deadline, "the in-process worker never made the SBOM"
        time.sleep(0.2)
    assert state == "present"
