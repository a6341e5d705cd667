"""Real Maven and Gradle against a real ``hoist serve`` (REAL_CLIENTS.md §11): a CI robot deploys with
``mvn deploy:deploy-file``, a consumer's ``mvn compile`` resolving from /maven/prod/ fails until a
release robot promotes the version, then resolves the very bytes deployed; Gradle resolves them too."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from hoist.client import HoistClient
from tests.e2e.conftest import Server, drain
from tests.e2e.maven_clients import (
    LOCAL_REPOSITORY,
    Library,
    build_library,
    consumer_project,
    deploy_file,
    gradle_resolve,
    library_fixture,  # noqa: F401 - the library fixture
    mvn_compile,
    resolved_jar,
    settings_xml,
)
from tests.e2e.test_foreign_layers import robot

pytestmark = pytest.mark.slow


def test_mvn_deploys_to_dev_and_prod_resolves_only_what_was_promoted(
    server: Server, tmp_path: Path, library: Library
) -> None:
    with HoistClient(server.url, token=server.admin_token) as admin:
        tokens = {name: robot(admin, name, role) for name, role in (("ci", "ci"), ("rel", "release"), ("app", "viewer"))}
    settings = {name: settings_xml(tmp_path / name, name, token) for name, token in tokens.items()}
    dev, prod = f"{server.url}/maven/dev", f"{server.url}/maven/prod"

    deploy_file(library, dev, settings["ci"])
    again = deploy_file(library, dev, settings["ci"])  # the same bytes again: Maven re-uploads, nothing changes
    assert "BUILD SUCCESS" in again.stdout
    refused = deploy_file(library, prod, settings["rel"], ok=False)
    assert refused.returncode != 0 and "status: 403 Forbidden" in refused.stdout
    # Maven 3.8 prints the status line only; the body it was sent says what to do (curl -T shows it)
    jar_path = f"{library.group.replace('.', '/')}/{library.artifact}/{library.version}/{library.jar.name}"
    told = httpx.put(f"{prod}/{jar_path}", content=b"x", auth=("rel", tokens["rel"]))
    assert told.status_code == 403 and "promote with --to prod" in told.text

    consumer = consumer_project(tmp_path / "consumer", library, prod)
    before = mvn_compile(consumer, settings["app"], ok=False)
    assert before.returncode != 0 and library.artifact in before.stdout

    ref = f"maven/{library.group}:{library.artifact}@{library.version}"
    with HoistClient(server.url, token=tokens["ci"]) as ci:
        ci.attest(ref, type="unit-tests", result="pass")
    drain(server)  # the version's SBOM, made off the deploy
    with HoistClient(server.url, token=tokens["rel"]) as rel:
        rel.promote(ref, to="prod")
        sbom = json.loads(rel.sbom(ref))
    assert sbom["metadata"]["component"]["purl"] == f"pkg:maven/{library.group}/{library.artifact}@{library.version}"

    mvn_compile(consumer, settings["app"])
    assert hashlib.sha256(resolved_jar(library).read_bytes()).hexdigest() == library.sha256

    fetched = gradle_resolve(tmp_path / "gradle", library, prod, "app", tokens["app"])
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == library.sha256


def test_snapshot_deploys_number_their_builds_from_the_servers_metadata(server: Server, tmp_path: Path) -> None:
    """Maven numbers a snapshot build by reading the version's maven-metadata.xml: the server's
    rendering must count the builds it holds, and a consumer gets the newest one."""
    group = f"hoiste2e.s{secrets.token_hex(4)}"
    try:
        with HoistClient(server.url, token=server.admin_token) as admin:
            token = robot(admin, "ci", "ci")
        settings = settings_xml(tmp_path / "ci", "ci", token)
        dev = f"{server.url}/maven/dev"
        first = build_library(tmp_path / "one", group, "shop-core", "1.5.0-SNAPSHOT", greeting="one")
        second = build_library(tmp_path / "two", group, "shop-core", "1.5.0-SNAPSHOT", greeting="two")
        deploy_file(first, dev, settings)
        deploy_file(second, dev, settings)
        folder = f"{dev}/{group.replace('.', '/')}/shop-core/1.5.0-SNAPSHOT"
        metadata = ET.fromstring(httpx.get(f"{folder}/maven-metadata.xml", auth=("ci", token)).content)
        assert metadata.findtext("versioning/snapshot/buildNumber") == "2"
        mvn_compile(consumer_project(tmp_path / "consumer", second, dev), settings)
        assert hashlib.sha256(resolved_jar(second).read_bytes()).hexdigest() == second.sha256 != first.sha256
    finally:
        shutil.rmtree(LOCAL_REPOSITORY / group.replace(".", "/"), ignore_errors=True)
