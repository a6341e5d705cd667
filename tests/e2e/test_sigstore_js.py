"""sigstore-js (the Sigstore project's JavaScript verifier) checks, offline and with public keys only,
the Sigstore bundle `hoist sign` writes and the DSSE statements the server signs, as a user would
who trusts neither Hoist's client nor its server code (../shared/reference/REAL_CLIENTS.md §12)."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hoist.client import HoistClient
from hoist.client import oci as o
from tests.conftest import missing
from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow

VERIFIER = Path(__file__).parent / "sigstore"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
IN_TOTO = "application/vnd.in-toto+json"
COSIGN_SIGN = "https://sigstore.dev/cosign/sign/v1"
SERVER_STATEMENTS = {
    "https://slsa.dev/provenance/v1",
    "https://in-toto.io/attestation/test-result/v0.1",
    "https://slsa.dev/verification_summary/v1",
    "https://hoist.dev/attestation/approval/v1",
}


@pytest.fixture(scope="session")
def sigstore_js() -> Path:
    """``npm ci`` of the pinned verifier, once per lock file into a cache folder (shared by workers)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        missing("node and npm are needed to install and run sigstore-js")
    wanted = [VERIFIER / "package.json", VERIFIER / "package-lock.json"]
    key = hashlib.sha256(b"".join(f.read_bytes() for f in wanted)).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hoist-tests" / f"sigstore-js-{key}"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one installs, the others wait for it
        if not (cache / "installed").exists():
            for f in wanted:
                shutil.copy(f, cache / f.name)
            done = subprocess.run(
                ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                cwd=cache,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, f"npm ci failed:\n{done.stdout}{done.stderr}"
            (cache / "installed").write_text(key)
    return cache / "node_modules"


def verify(modules: Path, document: bytes, public_pem: bytes, artifact: bytes, tmp: Path) -> dict[str, Any]:
    (tmp / "document.json").write_bytes(document)
    (tmp / "key.pem").write_bytes(public_pem)
    (tmp / "artifact").write_bytes(artifact)
    done = subprocess.run(
        ["node", str(VERIFIER / "verify.js"), str(tmp / "document.json"), str(tmp / "key.pem"), str(tmp / "artifact")],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in {0, 1}, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["ok"] is (done.returncode == 0)
    return result


def hoist(server: Server, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOIST_URL": server.url, "HOIST_TOKEN": token}
    done = subprocess.run(
        [sys.executable, "-m", "hoist", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"hoist {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done


@pytest.fixture
def robots(server: Server) -> dict[str, str]:
    """Tokens of the least-privileged principals of the story: CI pushes, a release robot promotes,
    an approver approves, and a viewer robot (a deploy job) only reads what it verifies."""
    tokens = {}
    for name, role, robot in (("ci", "ci", True), ("release", "release", True), ("ana", "approver", False)):
        hoist(server, server.admin_token, "user", "create", name, "--role", role, *(["--robot"] if robot else []))
    hoist(server, server.admin_token, "user", "create", "deployer", "--robot", "--role", "viewer")
    for name in ("ci", "release", "ana", "deployer"):
        made = hoist(server, server.admin_token, "token", "create", "--user", name, "--json")
        tokens[name] = json.loads(made.stdout)["token"]
    return tokens


def signed_documents(client: HoistClient, repository: str, digest: str) -> dict[str, bytes]:
    """Each Sigstore bundle and DSSE envelope referring to ``digest``, by the predicate type it signs."""
    found: dict[str, bytes] = {}
    for descriptor in o.referrers(client, repository, digest):
        if descriptor.get("artifactType") not in {BUNDLE, IN_TOTO}:
            continue
        manifest = json.loads(o.get_manifest(client, repository, descriptor["digest"]) or b"{}")
        document = o.get_blob(client, repository, manifest["layers"][0]["digest"])
        assert document is not None
        envelope = json.loads(document).get("dsseEnvelope") or json.loads(document)
        statement = json.loads(base64.b64decode(envelope["payload"]))
        found[statement["predicateType"]] = document
    return found


def tampered_payload(document: bytes) -> bytes:
    value = json.loads(document)
    envelope = value.get("dsseEnvelope") or value
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["tampered"] = True
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps(value).encode()


def tampered_signature(document: bytes) -> bytes:
    value = json.loads(document)
    envelope = value.get("dsseEnvelope") or value
    signature = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    signature[-1] ^= 0x01  # the last byte of s: still DER, no longer the signature
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(signature)).decode()
    return json.dumps(value).encode()


def test_sigstore_js_verifies_hoist_signatures_and_statements(
    server: Server, robots: dict[str, str], sigstore_js: Path, tmp_path: Path
) -> None:
    build = tmp_path / "shop-api.tgz"
    build.write_bytes(os.urandom(2048))
    hoist(server, robots["ci"], "key", "generate", "-o", str(tmp_path / "ci"))
    hoist(server, robots["ci"], "push", "shop-api", str(build), "--version", "1.0.0", "--pipeline", "github-actions:42")
    hoist(server, robots["ci"], "attest", "shop-api@1.0.0", "--type", "unit-tests", "--result", "pass")
    hoist(server, robots["ci"], "sign", "shop-api@1.0.0", "--key", str(tmp_path / "ci.key"))
    hoist(server, robots["release"], "promote", "shop-api@1.0.0", "--to", "prod")
    hoist(server, robots["ana"], "approve", "shop-api@1.0.0", "--env", "prod")

    with HoistClient(server.url, token=robots["deployer"]) as client:
        server_pem = client.request("GET", "/keys").json()["server"]["public_key"].encode()  # or pin hoist.pub
        digest = o.head_manifest(client, "prod/shop-api", "1.0.0").digest  # type: ignore[union-attr]
        artifact = o.get_manifest(client, "prod/shop-api", digest)
        documents = signed_documents(client, "prod/shop-api", digest)
    assert artifact is not None and hashlib.sha256(artifact).hexdigest() == digest.split(":")[1]
    assert set(documents) == {COSIGN_SIGN} | SERVER_STATEMENTS
    ci_pem = (tmp_path / "ci.pub").read_bytes()
    keys = {kind: ci_pem if kind == COSIGN_SIGN else server_pem for kind in documents}

    work = tmp_path / "verify"
    work.mkdir()
    for kind, document in documents.items():
        verified = verify(sigstore_js, document, keys[kind], artifact, work)
        assert verified["ok"], (kind, verified)
        assert verified["statement"]["predicateType"] == kind
        assert digest.split(":")[1] in {s["digest"]["sha256"] for s in verified["statement"]["subject"]}

    bundle, provenance = documents[COSIGN_SIGN], documents["https://slsa.dev/provenance/v1"]
    for document, key, other in ((bundle, ci_pem, server_pem), (provenance, server_pem, ci_pem)):
        # sigstore-js checks the signature; with no tlog entry the subject digest is the verifier's own check
        assert verify(sigstore_js, document, key, artifact + b" ", work)["code"] == "DIGEST_MISMATCH"
        assert verify(sigstore_js, tampered_payload(document), key, artifact, work)["code"] == "SIGNATURE_ERROR"
        assert verify(sigstore_js, tampered_signature(document), key, artifact, work)["code"] == "SIGNATURE_ERROR"
        assert verify(sigstore_js, document, other, artifact, work)["code"] == "SIGNATURE_ERROR"
