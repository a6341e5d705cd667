"""curl against a real ``hoist serve`` at /generic: the way scripts that will not install a CLI
publish and fetch JS bundles and binaries. A CI robot uploads into dev, prod does not have the
version until a release user promotes it, then ``curl -O`` from prod gives the same bytes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hoist.client import HoistClient
from tests.conftest import missing
from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow


def curl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """curl printing the status code last, so a test reads both the body and the status."""
    binary = shutil.which("curl")
    if binary is None:
        missing("curl is not installed (apt-get install curl)")
        raise AssertionError("unreachable")
    return subprocess.run(
        [binary, "-sS", "-w", "\n%{http_code}", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def status(done: subprocess.CompletedProcess[str]) -> int:
    return int(done.stdout.rsplit("\n", 1)[1])


def body(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.rsplit("\n", 1)[0]


def principal(server: Server, name: str, role: str, *, robot: bool) -> str:
    """A user or robot holding ``role`` only, and its API token: what curl sends as the password."""
    with HoistClient(server.url, token=server.admin_token) as admin:
        admin.create_user(name, robot=robot, grants=[f"role:{role}"])
        return str(admin.create_token(name, description=f"{name} in the curl test")["token"])


def hoist(server: Server, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOIST_URL": server.url, "HOIST_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "hoist", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_curl_uploads_to_dev_and_downloads_from_prod_only_after_promotion(server: Server, tmp_path: Path) -> None:
    ci = "ci:" + principal(server, "ci", "ci", robot=True)
    release = "release:" + principal(server, "release", "release", robot=True)
    app, bundle = tmp_path / "app.tgz", tmp_path / "bundle.js"
    app.write_bytes(os.urandom(3 * 1024 * 1024 + 7))  # over the size served with a re-hash first
    bundle.write_text("console.log('shop');\n")
    dev = f"{server.url}/generic/dev/shop/web/1.4.0"
    prod = f"{server.url}/generic/prod/shop/web/1.4.0"
    sha256 = hashlib.sha256(app.read_bytes()).hexdigest()

    # one file at a time, each joining the version; the declared checksum is checked
    put = curl("-u", ci, "-T", str(app), "-H", f"X-Checksum-Sha256: {sha256}", f"{dev}/app.tgz")
    assert status(put) == 201, put.stdout + put.stderr
    assert status(curl("-u", ci, "-T", str(bundle), f"{dev}/bundle.js")) == 201
    listed = curl("-u", ci, "-H", "Accept: text/plain", f"{dev}/")
    assert status(listed) == 200 and body(listed) == "app.tgz\nbundle.js\n"

    # bytes that are not what the client declared: refused, in a text body curl prints
    wrong = curl("-u", ci, "-T", str(bundle), "-H", f"X-Checksum-Sha256: {sha256}", f"{dev}/other.js")
    assert status(wrong) == 400 and "nothing was stored" in body(wrong)
    assert status(curl("-u", ci, "-o", "/dev/null", f"{dev}/other.js")) == 404

    # prod takes promotions only, and does not have the version yet
    direct = curl("-u", ci, "-T", str(app), f"{prod}/app.tgz")
    assert status(direct) == 403 and "promote" in body(direct)
    assert status(curl("-u", release, "-o", "/dev/null", f"{prod}/app.tgz")) == 404

    attested = hoist(server, ci.split(":", 1)[1], "attest", "shop/web@1.4.0", "--type", "unit-tests", "--result", "pass")
    assert attested.returncode == 0, attested.stderr
    promoted = hoist(server, release.split(":", 1)[1], "promote", "shop/web@1.4.0", "--to", "prod")
    assert promoted.returncode == 0, promoted.stderr

    # curl -O from prod: the same bytes, with the checksums a script can check
    out = tmp_path / "out"
    out.mkdir()
    fetched = curl("-u", release, "-O", "-D", str(tmp_path / "headers"), f"{prod}/app.tgz", cwd=out)
    assert status(fetched) == 200, fetched.stderr
    assert (out / "app.tgz").read_bytes() == app.read_bytes()
    headers = (tmp_path / "headers").read_text().lower()
    assert f"x-checksum-sha256: {sha256}" in headers
    ranged = curl("-u", release, "-r", "0-9", "-o", str(tmp_path / "first10"), f"{prod}/app.tgz")
    assert status(ranged) == 206 and (tmp_path / "first10").read_bytes() == app.read_bytes()[:10]
    # sealed in prod: no new file joins the version there, and it stays whole in dev
    sealed = curl("-u", ci, "-T", str(bundle), f"{dev}/late.js")
    assert status(sealed) == 409, sealed.stdout
    assert "sealed" in body(sealed) or "promote" in body(sealed)
