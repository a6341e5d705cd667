"""A native package signed like any artifact, over the wire: the real npm publishes to dev, a releaser
promotes it into prod (which serves only signed artifacts), the real npm cannot install it there until
``hoist sign`` has signed it; then ``hoist verify --env prod`` passes with the server's key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.demo import fresh_server, new_admin_token
from tests.e2e.conftest import Server, server_env
from tests.e2e.npm import Npm, consumer, package
from tests.e2e.test_npm_clients import hoist, principal, registry
from tests.functional.test_native_signatures import CONFIG

pytestmark = pytest.mark.slow


@pytest.fixture
def release_key(tmp_path: Path) -> Path:
    """The releaser's key pair, made with ``hoist key generate`` (the private half stays here)."""
    keys = tmp_path / "keys"
    keys.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "hoist", "key", "generate", "-o", str(keys / "release")],
        env={**os.environ, "COSIGN_PASSWORD": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return keys / "release.key"


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path, release_key: Path) -> Iterator[Server]:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "hoist.toml"
    config.write_text(CONFIG.format(public=release_key.with_suffix(".pub")))
    env = {**server_env(request, data), "HOIST_CONFIG": str(config)}
    token = new_admin_token()
    with fresh_server(data, env, admin_token=token) as url:
        yield Server(url, data, env["HOIST_DATABASE_URL"], env, token)


def test_npm_installs_from_prod_only_once_hoist_sign_signed_the_version(
    server: Server, tmp_path: Path, release_key: Path
) -> None:
    ci = Npm.installed(tmp_path / "ci-bot", registry(server, "dev"))
    ci.login(principal(server, "ci-bot", "role:ci"))
    release = principal(server, "rel", "role:release", robot=False)  # promote and read: no push anywhere
    deployer = Npm.installed(tmp_path / "deploy-bot", registry(server, "prod"))
    deployer.login(principal(server, "deploy-bot", "read:prod"))

    ci.run("publish", cwd=package(tmp_path / "ui", "@acme/e2e-signed", "1.0.0"))
    ref = "npm/@acme/e2e-signed@1.0.0"
    hoist(server, "promote", ref, "--to", "prod", token=release)

    app = consumer(tmp_path / "app", {"@acme/e2e-signed": "1.0.0"})
    refused = deployer.run("install", cwd=app, ok=False)
    assert "403" in refused.stderr and "signed" in refused.stderr, refused.stderr

    signed = json.loads(hoist(server, "sign", ref, "--key", str(release_key), "--registry", "prod", "--json", token=release))
    assert signed["verified_by_server"] == ["release"]
    assert signed["repository"] == "prod/npm/@acme/e2e-signed"
    verified = json.loads(hoist(server, "verify", ref, "--env", "prod", "--json", token=release))
    assert verified["verified"] is True, verified

    deployer.run("install", cwd=app)
    assert (app / "node_modules/@acme/e2e-signed/index.js").read_text().startswith("module.exports")
