"""Real OCI clients against a real ``hoist serve``: skopeo, oras (Python) and podman, unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import missing
from tests.e2e.conftest import Server, drain

pytestmark = pytest.mark.slow


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (apt-get install {name})")
        raise AssertionError("unreachable")
    return path


def run(*args: str, cwd: Path | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if ok and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


def host(server: Server) -> str:
    return server.url.removeprefix("http://")


def build_image(where: Path, size: int = 2 * 1024 * 1024) -> str:
    """An OCI layout with one image (no base layer), built without a daemon; returns its manifest digest."""
    umoci = tool("umoci")
    run(umoci, "init", "--layout", "img", cwd=where)
    run(umoci, "new", "--image", "img:v1", cwd=where)
    run(umoci, "config", "--image", "img:v1", "--config.cmd", "/bin/sh", cwd=where)
    run(umoci, "unpack", "--image", "img:v1", "bundle", cwd=where)
    (where / "bundle" / "rootfs" / "payload.bin").write_bytes(os.urandom(size))
    run(umoci, "repack", "--image", "img:v1", "bundle", cwd=where)
    run(umoci, "gc", "--layout", "img", cwd=where)
    index = json.loads((where / "img" / "index.json").read_text())
    digest: str = index["manifests"][0]["digest"]
    return digest


@pytest.fixture(autouse=True)
def logged_in(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """skopeo and podman log in with the administrator's API token as the password (the way CI
    logs in with a robot's token): ``skopeo login`` writes the auth file both then read."""
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "auth.json"))
    if "server" not in request.fixturenames:
        return
    server: Server = request.getfixturevalue("server")
    login = subprocess.run(
        [tool("skopeo"), "login", "--tls-verify=false", "--username", "admin", "--password-stdin", host(server)],
        input=server.admin_token,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert login.returncode == 0 and "Login Succeeded" in login.stdout, login.stdout + login.stderr


def bearer(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_token}"}


def hoist(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOIST_URL": server.url, "HOIST_TOKEN": server.admin_token}
    return subprocess.run(
        [sys.executable, "-m", "hoist", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_skopeo_copies_in_out_and_between_registries(server: Server, tmp_path: Path) -> None:
    skopeo = tool("skopeo")
    local = build_image(tmp_path)
    dev = f"docker://{host(server)}/dev/demo/app"
    run(skopeo, "copy", "--dest-tls-verify=false", "oci:" + str(tmp_path / "img") + ":v1", f"{dev}:1.0.0")
    inspected = json.loads(run(skopeo, "inspect", "--tls-verify=false", f"{dev}:1.0.0").stdout)
    assert inspected["Digest"] == local and inspected["RepoTags"] == ["1.0.0"]
    # out again, byte for byte
    run(skopeo, "copy", "--src-tls-verify=false", f"{dev}:1.0.0", f"dir:{tmp_path / 'pulled'}")
    manifest = (tmp_path / "pulled" / "manifest.json").read_bytes()
    assert "sha256:" + hashlib.sha256(manifest).hexdigest() == local
    # between repositories of the same registry (a cross-repository mount), and by digest
    run(
        skopeo,
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        f"{dev}@{local}",
        f"docker://{host(server)}/dev/demo/copy:latest",
    )
    assert (
        json.loads(run(skopeo, "inspect", "--tls-verify=false", f"docker://{host(server)}/dev/demo/copy:latest").stdout)[
            "Digest"
        ]
        == local
    )
    # into prod: refused, because prod only takes promotions
    refused = run(
        skopeo,
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        f"{dev}:1.0.0",
        f"docker://{host(server)}/prod/demo/app:1.0.0",
        ok=False,
    )
    assert refused.returncode != 0 and "accepts no direct pushes" in refused.stderr
    # promoted instead: the same digest, sealed
    assert hoist(server, "attest", "demo/app@1.0.0", "--type", "unit-tests", "--result", "pass").returncode == 0
    assert hoist(server, "promote", "demo/app@1.0.0", "--to", "prod").returncode == 0
    prod = json.loads(run(skopeo, "inspect", "--tls-verify=false", f"docker://{host(server)}/prod/demo/app:1.0.0").stdout)
    assert prod["Digest"] == local
    tags = json.loads(run(skopeo, "list-tags", "--tls-verify=false", dev).stdout)["Tags"]
    assert tags == ["1.0.0"]
    # deletes: allowed for the movable tag in dev, refused for the sealed prod copy
    run(skopeo, "delete", "--tls-verify=false", f"docker://{host(server)}/dev/demo/copy:latest")
    gone = run(skopeo, "inspect", "--tls-verify=false", f"docker://{host(server)}/dev/demo/copy:latest", ok=False)
    assert gone.returncode != 0
    sealed = run(skopeo, "delete", "--tls-verify=false", f"docker://{host(server)}/prod/demo/app:1.0.0", ok=False)
    assert sealed.returncode != 0 and "does not allow deletes" in sealed.stderr


def test_oras_pushes_pulls_attaches_and_discovers(server: Server, tmp_path: Path) -> None:
    try:
        import oras.client
        import oras.oci
    except ImportError:
        missing("the oras Python package is not installed (pip install oras)")
        return
    (tmp_path / "app.bin").write_bytes(os.urandom(300_000))
    (tmp_path / "meta.json").write_text('{"hello": "world"}')
    client = oras.client.OrasClient(hostname=host(server), insecure=True)
    client.login(username="admin", password=server.admin_token, tls_verify=False, hostname=host(server))
    target = f"{host(server)}/dev/artifacts/demo:1.0.0"
    os.chdir(tmp_path)
    pushed = client.push(files=["app.bin", "meta.json"], target=target, manifest_annotations={"org.example.note": "oras-py"})
    assert pushed.status_code == 201
    assert drain(server)["ran"] == 1  # the version's SBOM, made off the push (none is generated once one is supplied)
    digest = pushed.headers["Docker-Content-Digest"]
    out = tmp_path / "out"
    client.pull(target=target, outdir=str(out))
    assert (out / "app.bin").read_bytes() == (tmp_path / "app.bin").read_bytes()
    assert (out / "meta.json").read_text() == '{"hello": "world"}'
    # attach an SBOM to it, then discover it through the referrers API
    head = httpx.head(f"{server.url}/v2/dev/artifacts/demo/manifests/1.0.0", headers=bearer(server))
    subject = oras.oci.Subject(
        mediaType=head.headers["content-type"], digest=digest, size=int(head.headers["content-length"])
    )
    (tmp_path / "sbom.cdx.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6"}')
    attached = client.push(
        files=["sbom.cdx.json:application/vnd.cyclonedx+json"], target=f"{host(server)}/dev/artifacts/demo", subject=subject
    )
    assert attached.status_code == 201 and attached.headers["OCI-Subject"] == digest
    referrers = httpx.get(f"{server.url}/v2/dev/artifacts/demo/referrers/{digest}", headers=bearer(server)).json()[
        "manifests"
    ]
    supplied = [r for r in referrers if r["digest"] == attached.headers["Docker-Content-Digest"]]
    generated = [r for r in referrers if r.get("annotations", {}).get("dev.hoist.sbom.generated") == "true"]
    assert len(supplied) == 1 and len(generated) == 1 and len(referrers) == 2  # Hoist made one at push, oras added one


def test_podman_pulls_and_pushes(server: Server, tmp_path: Path) -> None:
    skopeo, podman = tool("skopeo"), tool("podman")
    build_image(tmp_path)
    run(
        skopeo,
        "copy",
        "--dest-tls-verify=false",
        f"oci:{tmp_path / 'img'}:v1",
        f"docker://{host(server)}/dev/demo/app:2.0.0",
    )
    runroot = Path(tempfile.mkdtemp(prefix="hoist-podman-", dir="/tmp"))  # podman wants it under 50 characters
    storage = ["--root", str(tmp_path / "podman-root"), "--runroot", str(runroot), "--storage-driver", "vfs"]
    run(podman, *storage, "pull", "--tls-verify=false", f"{host(server)}/dev/demo/app:2.0.0")
    run(podman, *storage, "tag", f"{host(server)}/dev/demo/app:2.0.0", f"{host(server)}/dev/podman/app:2.0.1")
    run(podman, *storage, "push", "--tls-verify=false", f"{host(server)}/dev/podman/app:2.0.1")
    listed = httpx.get(f"{server.url}/v2/dev/podman/app/tags/list", headers=bearer(server)).json()
    assert listed == {"name": "dev/podman/app", "tags": ["2.0.1"]}
    run(podman, *storage, "rmi", "-a", "-f")
    shutil.rmtree(runroot, ignore_errors=True)


def test_skopeo_logs_in_with_a_robot_token_and_gets_only_its_rights(server: Server, tmp_path: Path) -> None:
    """A CI robot's token: skopeo logs in with it, pushes into dev, and is refused a pull from prod;
    a wrong password is refused at login; anonymous clients get the challenge and no access."""
    skopeo = tool("skopeo")
    local = build_image(tmp_path, size=100_000)
    assert hoist(server, "user", "create", "frank", "--robot", "--role", "ci").returncode == 0
    made = hoist(server, "token", "create", "--user", "frank", "--description", "e2e CI", "--json")
    token = json.loads(made.stdout)["token"]
    auth = str(tmp_path / "frank.json")
    wrong = run(
        skopeo,
        "login",
        "--tls-verify=false",
        "--authfile",
        auth,
        "-u",
        "frank",
        "-p",
        "not-the-token",
        host(server),
        ok=False,
    )
    assert wrong.returncode != 0 and "invalid username/password" in wrong.stderr.lower()
    login = subprocess.run(
        [skopeo, "login", "--tls-verify=false", "--authfile", auth, "-u", "frank", "--password-stdin", host(server)],
        input=token,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    target = f"docker://{host(server)}/dev/secure/app:1.0.0"
    run(skopeo, "copy", "--dest-tls-verify=false", "--authfile", auth, f"oci:{tmp_path / 'img'}:v1", target)
    inspected = json.loads(run(skopeo, "inspect", "--tls-verify=false", "--authfile", auth, target).stdout)
    assert inspected["Digest"] == local
    history = httpx.get(f"{server.url}/api/v1/history", params={"ref": "secure/app@1.0.0"}, headers=bearer(server)).json()
    assert history[0]["actor"] == "frank"
    # the robot holds no read on prod, and nobody anonymous reads dev
    assert hoist(server, "attest", "secure/app@1.0.0", "--type", "unit-tests", "--result", "pass").returncode == 0
    assert hoist(server, "promote", "secure/app@1.0.0", "--to", "prod").returncode == 0
    prod = run(
        skopeo,
        "inspect",
        "--tls-verify=false",
        "--authfile",
        auth,
        f"docker://{host(server)}/prod/secure/app:1.0.0",
        ok=False,
    )
    assert prod.returncode != 0 and ("denied" in prod.stderr.lower() or "unauthorized" in prod.stderr.lower())
    empty = str(tmp_path / "nobody.json")
    Path(empty).write_text('{"auths": {}}')
    anonymous = run(skopeo, "inspect", "--tls-verify=false", "--authfile", empty, target, ok=False)
    assert anonymous.returncode != 0 and "unauthorized" in anonymous.stderr.lower()
    events = [json.loads(line) for line in hoist(server, "audit", "export").stdout.splitlines()]
    denials = [e for e in events if e["action"] == "access:denied"]
    assert any(e["actor"] == "frank" and e["subject"] == "prod/secure/app" for e in denials)
    failures = [e for e in events if e["action"] == "auth:failed"]
    assert any(e["actor"] == "frank" and e["details"]["reason"] for e in failures)
    assert token not in json.dumps(events) and "not-the-token" not in json.dumps(events)
    assert token not in (server.data / "server.log").read_text()
