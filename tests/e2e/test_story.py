"""The README story, through the real CLI against a real ``hoist serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from scripts.demo import run_story
from tests.e2e.conftest import Server, drain

pytestmark = pytest.mark.slow


def hoist(server: Server, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOIST_URL": server.url, "HOIST_TOKEN": server.admin_token}
    return subprocess.run(
        [sys.executable, "-m", "hoist", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_readme_story(server: Server, tmp_path: Path) -> None:
    ran = run_story(server.url, tmp_path, server.admin_token, echo=False)
    said = {(r.step.who, r.step.command): r.result for r in ran}
    assert "Logged in" in said["admin", "login"].stdout and "as admin" in said["admin", "login"].stdout
    assert "✗ ceiling:" in said["release", "promote shop-api@1.4.0-SNAPSHOT+1 --to prod"].stderr
    ci_may_not_promote = said["ci", "promote shop-api@1.4.0+1 --to prod"]
    assert "ci may not promote shop-api@1.4.0+1 into prod: that needs promote:prod" in ci_may_not_promote.stderr
    assert [r.step.who for r in ran if r.step.command.startswith("push")] == ["ci", "ci", "ci"]
    assert {r.step.who for r in ran} == {"admin", "ci", "release", "ana", "ops"}
    status = json.loads(hoist(server, "status", "--json").stdout)
    running = {s["environment"]: (s["version"], s["kind"]) for s in status}
    assert running == {
        "dev": ("1.4.1+1", "deploy"),
        "uat": ("1.4.1+1", "deploy"),
        "preprod": ("1.4.1+1", "deploy"),
        "prod": ("1.4.0+1", "rollback"),
    }
    # the same digest in dev and prod: promoted, never rebuilt
    listed = json.loads(hoist(server, "ls", "shop-api", "--json").stdout)
    release = next(a for a in listed if a["version"] == "1.4.0+1")
    assert {p["registry"]: p["sealed"] for p in release["placements"]} == {"dev": False, "prod": True}
    prod_view = json.loads(hoist(server, "ls", "--registry", "prod", "--json").stdout)
    assert {a["version"]: a["digest"] for a in prod_view}["1.4.0+1"] == release["digest"]
    # held back after the rollback
    held = hoist(server, "deploy", "shop-api@1.4.1+1", "--env", "prod")
    assert held.returncode == 3 and "hold" in held.stderr
    verified = json.loads(hoist(server, "audit", "verify", "--json").stdout)
    exported = [json.loads(line) for line in hoist(server, "audit", "export", "--format", "jsonl").stdout.splitlines()]
    assert verified["ok"] and verified["checked"] == len(exported)
    actions = [(e["actor"], e["action"]) for e in exported]
    assert actions[0] == ("hoist", "server:bootstrap")
    assert [a for a in actions if a[1] == "user:create"] == [("admin", "user:create")] * 4
    assert ("ci", "access:denied") in actions and ("ops", "deployment:refused") in actions
    assert [e["actor"] for e in exported if e["action"] == "artifact:promote"] == ["release", "release"]
    assert [e["actor"] for e in exported if e["action"] == "artifact:approve"] == ["ana", "ana"]


def test_pull_verifies_what_it_downloads(server: Server, tmp_path: Path) -> None:
    big = tmp_path / "bundle.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024 + 5))  # above the one-request size: the streamed path
    small = tmp_path / "notes.txt"
    small.write_text("release notes")
    pushed = hoist(server, "push", "web/bundle", str(big), str(small), "--version", "2.0.0-rc.1", "--json")
    assert pushed.returncode == 0, pushed.stderr
    digest = json.loads(pushed.stdout)["artifact"]["digest"]
    out = tmp_path / "out"
    pulled = hoist(server, "pull", f"web/bundle@{digest}", "-o", str(out), "--json")
    assert pulled.returncode == 0, pulled.stderr
    assert (out / "bundle.bin").read_bytes() == big.read_bytes()
    assert (out / "notes.txt").read_text() == "release notes"
    # corrupt the stored blob: the client must refuse it and leave nothing behind
    blob = json.loads(pulled.stdout)["files"][0]["digest"].split(":")[1]
    stored = server.data / "blobs" / "sha256" / blob[:2] / blob
    stored.write_bytes(b"flipped bits" + stored.read_bytes()[12:])
    again = hoist(server, "pull", "web/bundle@2.0.0-rc.1", "-o", str(tmp_path / "again"))
    assert again.returncode == 6 and "as recorded, but they hash to" in again.stderr
    assert not (tmp_path / "again" / "bundle.bin").exists()


def test_unreachable_server_is_an_error_with_a_hint(tmp_path: Path) -> None:
    env = {**os.environ, "HOIST_URL": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-m", "hoist", "ls"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1 and "hoist serve" in done.stderr


def test_supply_chain_through_the_cli(server: Server, tmp_path: Path) -> None:
    """Push a wheel, find it by a component, gate on an OSV advisory, then verify the chain into prod."""
    wheel = tmp_path / "shop_api-2.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("shop_api-2.0.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: shop-api\nVersion: 2.0.0\n")
        vendored = "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.4\n"
        z.writestr("shop_api/_vendor/urllib3-1.26.4.dist-info/METADATA", vendored)
    assert hoist(server, "push", "shop-api", str(wheel), "--version", "2.0.0").returncode == 0
    drain(server)  # its SBOM, made off the push
    found = json.loads(hoist(server, "sbom", "affected", "urllib3", "--range", "<1.26.5", "--json").stdout)
    assert [(a["package"], a["version"]) for a in found["artifacts"]] == [("shop-api", "2.0.0")]
    advisory = {
        "id": "GHSA-q2q7-5pp4-w6pg",
        "modified": "2023-01-01T00:00:00Z",
        "summary": "urllib3 ReDoS in authority parsing",
        "database_specific": {"severity": "HIGH"},
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "urllib3"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.26.0"}, {"fixed": "1.26.5"}]}],
            }
        ],
    }
    osv = tmp_path / "advisory.json"
    osv.write_text(json.dumps(advisory))
    assert hoist(server, "vuln", "import", str(osv)).returncode == 0
    report = hoist(server, "vuln", "report", "shop-api@2.0.0", "--fail-on", "high")
    assert report.returncode == 3 and "GHSA-q2q7-5pp4-w6pg" in report.stdout
    assert hoist(server, "attest", "shop-api@2.0.0", "--type", "unit-tests", "--result", "pass").returncode == 0
    assert hoist(server, "promote", "shop-api@2.0.0", "--to", "prod").returncode == 0
    spdx = json.loads(hoist(server, "sbom", "get", "shop-api@2.0.0", "--spdx").stdout)
    assert spdx["spdxVersion"] == "SPDX-2.3"
    keys = json.loads(urllib.request.urlopen(f"{server.url}/api/v1/keys").read())
    pinned = tmp_path / "hoist.pub"
    pinned.write_text(keys["server"]["public_key"])
    verified = hoist(server, "verify", "shop-api@2.0.0", "--env", "prod", "--server-key", str(pinned))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    chain = json.loads(hoist(server, "provenance", "shop-api@2.0.0", "--json").stdout)
    assert chain["verified"], [link for link in chain["links"] if not link["ok"]]
    assert "promotion" in [link["kind"] for link in chain["links"]]
    assert hoist(server, "key", "generate", "-o", str(tmp_path / "other")).returncode == 0
    wrong = hoist(server, "verify", "shop-api@2.0.0", "--env", "prod", "--server-key", str(tmp_path / "other.pub"))
    assert wrong.returncode == 6 and "no trusted key verifies this envelope" in wrong.stdout
    garbled = tmp_path / "garbled.pub"
    garbled.write_text(keys["server"]["public_key"].replace("A", "B", 3))
    bad = hoist(server, "verify", "shop-api@2.0.0", "--env", "prod", "--server-key", str(garbled))
    assert bad.returncode == 2 and "not a PEM public key" in bad.stderr
