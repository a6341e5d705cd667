"""A manifest with foreign (non-distributable) layers through a real ``hoist serve``: pushed over
raw HTTP by a CI robot, read back by skopeo byte for byte, promoted, and fsck and gc stay clean."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain.digests import Digest
from tests.e2e.conftest import Server
from tests.e2e.test_oci_clients import hoist, host, tool
from tests.functional.oci_helpers import image_manifest, put_manifest

pytestmark = pytest.mark.slow


def robot(admin: HoistClient, name: str, role: str) -> str:
    admin.create_user(name, robot=True, grants=[f"role:{role}"])
    token: str = admin.create_token(name, description="e2e", expires_in_days=None)["token"]
    return token


def raw_manifest(skopeo: str, reference: str, user: str, token: str) -> bytes:
    done = subprocess.run(
        [skopeo, "inspect", "--raw", "--tls-verify=false", "--creds", f"{user}:{token}", reference],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def test_foreign_layers_pushed_raw_are_read_back_by_skopeo_promoted_and_checked_clean(server: Server) -> None:
    skopeo = tool("skopeo")
    with HoistClient(server.url, token=server.admin_token) as admin:
        ci_token, release_token = robot(admin, "ci", "ci"), robot(admin, "rel", "release")
    hidden = os.urandom(5000)  # never uploaded: it lives at its URL
    foreign: dict[str, Any] = {
        "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "digest": str(Digest.of(hidden)),
        "size": len(hidden),
        "urls": ["https://mcr.example.com/windows/servercore/layer.tar.gz"],
    }
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ci_token}"}) as ci:
        doc = json.loads(image_manifest(ci, "dev/win/app"))
        doc["layers"].insert(0, foreign)
        raw = json.dumps(doc, indent=2).encode()
        pushed = put_manifest(ci, "dev/win/app", "1.0.0_1", raw)
        assert pushed.status_code == 201, pushed.text
    assert raw_manifest(skopeo, f"docker://{host(server)}/dev/win/app:1.0.0_1", "ci", ci_token) == raw
    with HoistClient(server.url, token=ci_token) as ci_client:
        ci_client.attest("win/app@1.0.0+1", type="unit-tests", result="pass")
    with HoistClient(server.url, token=release_token) as release:
        release.promote("win/app@1.0.0+1", to="prod")
    assert raw_manifest(skopeo, f"docker://{host(server)}/prod/win/app:1.0.0_1", "rel", release_token) == raw
    fsck = hoist(server, "fsck")  # fsck and gc need admin
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    gc = hoist(server, "gc")
    assert gc.returncode == 0, gc.stdout + gc.stderr
    assert hoist(server, "fsck").returncode == 0
    assert raw_manifest(skopeo, f"docker://{host(server)}/prod/win/app:1.0.0_1", "rel", release_token) == raw
