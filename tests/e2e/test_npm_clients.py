"""The real npm 11 against a real ``hoist serve``: publish to dev as a CI robot, prod does not have
it, ``hoist promote``, and the lockfile made against dev installs the same bytes from prod; plus
dist-tags, deprecate, unpublish, audit, whoami, ping and login, each as the least-privileged
principal that should succeed."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.e2e.npm import Npm, consumer, package

pytestmark = pytest.mark.slow

PAD_ADVISORY = {
    "id": "GHSA-e2e0-pad0-0001",
    "modified": "2026-01-01T00:00:00Z",
    "summary": "e2e-pad pads with the wrong character",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"}],
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "e2e-pad"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.1.0"}]}],
        }
    ],
}


def hoist(server: Server, *args: str, token: str | None = None, stdin: str | None = None) -> str:
    env = {**os.environ, "HOIST_URL": server.url, "HOIST_TOKEN": token or server.admin_token}
    done = subprocess.run(
        [sys.executable, "-m", "hoist", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"hoist {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def principal(server: Server, name: str, *grants: str, robot: bool = True) -> str:
    """A user or robot with exactly ``grants`` (``role:ci``, ``read:prod``), and a token of theirs."""
    options = [f"--role={g[5:]}" if g.startswith("role:") else f"--grant={g}" for g in grants]
    hoist(server, "user", "create", name, *(["--robot"] if robot else []), *options)
    return str(json.loads(hoist(server, "token", "create", "--user", name, "--json"))["token"])


def registry(server: Server, name: str) -> str:
    return f"{server.url}/npm/{name}/"


def npm_as(server: Server, tmp_path: Path, who: str, token: str, reg: str = "dev") -> Npm:
    npm = Npm.installed(tmp_path / who, registry(server, reg))
    for r in ("dev", "prod"):
        npm.login(token, registry(server, r))
    return npm


def audit_events(server: Server) -> list[dict[str, object]]:
    return [json.loads(line) for line in hoist(server, "audit", "export").splitlines()]


def test_publish_to_dev_promote_and_install_the_same_bytes_from_prod(server: Server, tmp_path: Path) -> None:
    ci = npm_as(server, tmp_path, "ci-bot", principal(server, "ci-bot", "role:ci"))
    release = principal(server, "rel", "role:release", robot=False)
    deployer = npm_as(server, tmp_path, "deploy-bot", principal(server, "deploy-bot", "read:prod"), reg="prod")

    ci.run("publish", cwd=package(tmp_path / "pad", "e2e-pad", "1.0.0"))
    ci.run("publish", cwd=package(tmp_path / "ui", "@acme/e2e-ui", "2.0.0", dependencies={"e2e-pad": "^1.0.0"}))
    direct = ci.run(
        "publish", cwd=package(tmp_path / "ui2", "@acme/e2e-ui", "2.0.1"), registry=registry(server, "prod"), ok=False
    )
    assert "403" in direct.stderr and "promot" in direct.stderr

    app = consumer(tmp_path / "app", {"@acme/e2e-ui": "^2.0.0"})
    ci.run("install", cwd=app)
    lock = (app / "package-lock.json").read_text()
    installed = (app / "node_modules/e2e-pad/index.js").read_bytes()

    # prod does not have them yet: the same lockfile cannot be installed from prod
    prod_app = tmp_path / "prod-app"
    prod_app.mkdir()
    for f in ("package.json", "package-lock.json"):
        (prod_app / f).write_text((app / f).read_text())
    # the lockfile's tarball URLs name dev: npm swaps that prefix for the registry it installs from
    deployer.set("replace-registry-host", registry(server, "dev"))
    refused = deployer.run("ci", cwd=prod_app, ok=False)
    assert "404" in refused.stderr, refused.stderr
    assert deployer.run("view", "e2e-pad", "versions", ok=False).returncode != 0

    ci_token = ci.userconfig.read_text().rpartition("_authToken=")[2].strip()
    for ref in ("npm/e2e-pad@1.0.0", "npm/@acme/e2e-ui@2.0.0"):
        hoist(server, "attest", ref, "--type", "unit-tests", "--result", "pass", token=ci_token)
        hoist(server, "promote", ref, "--to", "prod", token=release)

    deployer.run("ci", cwd=prod_app)
    assert (prod_app / "package-lock.json").read_text() == lock
    assert (prod_app / "node_modules/e2e-pad/index.js").read_bytes() == installed
    dev_view = ci.json("view", "@acme/e2e-ui@2.0.0", "dist")
    prod_view = deployer.json("view", "@acme/e2e-ui@2.0.0", "dist")
    assert dev_view["integrity"] == prod_view["integrity"] and dev_view["shasum"] == prod_view["shasum"]
    assert prod_view["tarball"] == f"{registry(server, 'prod')}@acme/e2e-ui/-/e2e-ui-2.0.0.tgz"

    events = audit_events(server)
    # refused before its body was read: the robot may not promote into prod
    assert any(e["action"] == "access:denied" and e["actor"] == "ci-bot" for e in events)
    downloads = [e for e in events if e["action"] == "artifact:download" and e["actor"] == "deploy-bot"]
    assert downloads, "downloads of versions sealed in prod are audited with the actor"


def test_dist_tags_deprecate_unpublish_and_audit(server: Server, tmp_path: Path) -> None:
    dev = npm_as(server, tmp_path, "dana", principal(server, "dana", "role:developer", robot=False))
    for version in ("1.0.0", "1.0.1", "1.1.0-rc.1"):
        dev.run(
            "publish", "--tag", "next" if "-" in version else "latest", cwd=package(tmp_path / version, "e2e-pad", version)
        )

    assert dev.run("dist-tag", "ls", "e2e-pad").stdout.split("\n")[:2] == ["latest: 1.0.1", "next: 1.1.0-rc.1"]
    dev.run("dist-tag", "add", "e2e-pad@1.0.0", "stable")
    assert "stable: 1.0.0" in dev.run("dist-tag", "ls", "e2e-pad").stdout
    dev.run("dist-tag", "rm", "e2e-pad", "stable")
    assert "stable" not in dev.run("dist-tag", "ls", "e2e-pad").stdout

    dev.run("deprecate", "e2e-pad@1.0.0", "use 1.0.1")
    assert dev.json("view", "e2e-pad@1.0.0", "deprecated") == "use 1.0.1"
    dev.run("deprecate", "e2e-pad@1.0.0", "")
    assert dev.run("view", "e2e-pad@1.0.0", "deprecated").stdout.strip() == ""

    dev.run("unpublish", "e2e-pad@1.0.1")
    assert dev.json("view", "e2e-pad", "versions") == ["1.0.0", "1.1.0-rc.1"]
    assert dev.run("dist-tag", "ls", "e2e-pad").stdout.startswith("latest: 1.0.0")

    hoist(server, "vuln", "import", str(_write(tmp_path / "pad.json", PAD_ADVISORY)))
    app = consumer(tmp_path / "app", {"e2e-pad": "1.0.0"})
    dev.run("install", cwd=app)
    report = json.loads(dev.run("audit", "--json", cwd=app, ok=False).stdout)
    assert report["vulnerabilities"]["e2e-pad"]["severity"] == "high"
    assert report["vulnerabilities"]["e2e-pad"]["via"][0]["url"].endswith("GHSA-e2e0-pad0-0001")


def test_whoami_ping_and_login(server: Server, tmp_path: Path) -> None:
    hoist(server, "user", "create", "erin", "--role", "developer", "--password-stdin", stdin="correct horse battery\n")
    npm = Npm.installed(tmp_path / "erin", registry(server, "dev"))
    assert npm.run("ping").returncode == 0
    _login(npm, "erin", "correct horse battery")
    assert npm.run("whoami").stdout.strip() == "erin"
    assert httpx.get(f"{registry(server, 'dev')}-/whoami").status_code == 401


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def _login(npm: Npm, user: str, password: str) -> None:
    """``npm login`` asks for the name and password on a terminal: answer it through a pty."""
    env = {
        **os.environ,
        "HOME": str(npm.home),
        "npm_config_userconfig": str(npm.userconfig),
        "npm_config_cache": str(npm.home / "cache"),
    }
    pid, fd = pty.fork()
    if pid == 0:  # the child: npm
        os.execvpe("npm", ["npm", "login", "--registry", npm.registry], env)
    output = b""
    answers = [(b"sername", user), (b"assword", password)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if answers and answers[0][0] in output.rsplit(b"\n", 1)[-1]:
            os.write(fd, answers.pop(0)[1].encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output.decode(errors="replace")
