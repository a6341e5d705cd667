"""The Maven repository view (/maven/<registry>/) through the ASGI app, on both databases: deploys
accumulate into one version, checksums and maven-metadata.xml come from the server, prod shows only
what was promoted, and every refusal is a text/plain answer that changes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

import httpx
import pytest

from hoist.app import Services
from hoist.client import HoistClient
from hoist.domain.events import AuditEvent
from hoist.domain.jobs import WorkReport
from hoist.metadata.sql.store import SqlMetadataStore
from tests.asgi import SyncASGITransport
from tests.functional.helpers import NO_GATES, row_counts

KEY = "maven/org.acme:shop-core"
BASE = "/maven/dev/org/acme/shop-core"
JAR = b"PK\x03\x04 not really a jar, but bytes all the same"
POM = b"<project><groupId>org.acme</groupId><artifactId>shop-core</artifactId><version>1.4.0</version></project>"

MavenClient = Callable[..., httpx.Client]


@pytest.fixture
def config_text() -> str:
    return NO_GATES


@pytest.fixture
def maven(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[MavenClient]:
    """A client speaking to /maven as Maven does: Basic credentials, an API token as the password."""
    opened: list[httpx.Client] = []

    def make(name: str, *grants: str, robot: bool = False) -> httpx.Client:
        token = token_for(name, list(grants), robot=robot)
        auth = base64.b64encode(f"{name}:{token}".encode()).decode()
        client = httpx.Client(transport=transport, base_url="http://hoist.test", headers={"Authorization": f"Basic {auth}"})
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def ci(maven: MavenClient) -> httpx.Client:
    return maven("ci-bot", "role:ci", robot=True)


def deploy(client: httpx.Client, version: str = "1.4.0", jar: bytes = JAR, base: str = BASE) -> None:
    """What ``mvn deploy`` sends for a release: the jar, the pom, their .sha1 and .md5, the metadata."""
    for name, data in ((f"shop-core-{version}.jar", jar), (f"shop-core-{version}.pom", POM)):
        assert client.put(f"{base}/{version}/{name}", content=data).status_code == 201
        for alg in ("sha1", "md5"):
            checksum = hashlib.new(alg, data).hexdigest()
            assert client.put(f"{base}/{version}/{name}.{alg}", content=checksum).status_code == 201
    metadata = (
        "<metadata><groupId>org.acme</groupId><artifactId>shop-core</artifactId>"
        f"<versioning><release>{version}</release></versioning></metadata>"
    )
    assert client.put(f"{base}/maven-metadata.xml", content=metadata).status_code == 201


def events(services: Services, action: str) -> list[AuditEvent]:
    with services.metadata.reader() as s:
        return [e for e in s.audit.events(package=KEY) if e.action == action]


def test_a_deploy_is_one_version_whose_files_come_back_with_server_checksums(ci: httpx.Client) -> None:
    deploy(ci)
    got = ci.get(f"{BASE}/1.4.0/shop-core-1.4.0.jar")
    assert got.status_code == 200 and got.content == JAR
    assert got.headers["content-length"] == str(len(JAR))
    head = ci.head(f"{BASE}/1.4.0/shop-core-1.4.0.jar")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(JAR)) and head.content == b""
    for alg in ("md5", "sha1", "sha256", "sha512"):
        answer = ci.get(f"{BASE}/1.4.0/shop-core-1.4.0.jar.{alg}")
        assert answer.status_code == 200 and answer.text == hashlib.new(alg, JAR).hexdigest()
        assert answer.headers["content-type"].startswith("text/plain")
    assert ci.get(f"{BASE}/1.4.0/shop-core-1.4.0.pom").content == POM


def test_artifact_metadata_is_rendered_from_what_the_registry_holds(ci: httpx.Client) -> None:
    deploy(ci, "1.4.0")
    deploy(ci, "1.10.0")
    deploy(ci, "1.5.0-RC1")
    got = ci.get(f"{BASE}/maven-metadata.xml")
    assert got.status_code == 200 and got.headers["content-length"] == str(len(got.content))
    root = ET.fromstring(got.content)
    assert [v.text for v in root.iterfind("versioning/versions/version")] == ["1.4.0", "1.5.0-RC1", "1.10.0"]
    assert root.findtext("versioning/latest") == "1.10.0" and root.findtext("versioning/release") == "1.10.0"
    assert ci.get(f"{BASE}/maven-metadata.xml.sha1").text == hashlib.sha1(got.content).hexdigest()
    assert ci.head(f"{BASE}/maven-metadata.xml").headers["content-length"] == str(len(got.content))


def test_uploaded_metadata_is_checked_and_never_kept(ci: httpx.Client, metadata: SqlMetadataStore) -> None:
    deploy(ci)
    before = row_counts(metadata)
    lying = (
        "<metadata><groupId>org.acme</groupId><artifactId>shop-core</artifactId>"
        "<versioning><versions><version>9.9.9</version></versions></versioning></metadata>"
    )
    assert ci.put(f"{BASE}/maven-metadata.xml", content=lying).status_code == 201
    assert "9.9.9" not in ci.get(f"{BASE}/maven-metadata.xml").text
    for bad, says in (
        (lying.replace("org.acme", "org.evil"), "groupId"),
        ('<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><metadata>&x;</metadata>', "DTD"),
        ("<metadata>", "well-formed"),
    ):
        refused = ci.put(f"{BASE}/maven-metadata.xml", content=bad)
        assert refused.status_code == 400 and says in refused.text
        assert refused.headers["content-type"].startswith("text/plain")
    assert ci.put(f"{BASE}/maven-metadata.xml.sha1", content="not hex").status_code == 400
    assert row_counts(metadata) == before


def test_an_uploaded_checksum_that_disagrees_is_refused(ci: httpx.Client, metadata: SqlMetadataStore) -> None:
    deploy(ci)
    before = row_counts(metadata)
    wrong = ci.put(f"{BASE}/1.4.0/shop-core-1.4.0.jar.sha1", content=hashlib.sha1(b"other").hexdigest())
    assert wrong.status_code == 400 and "damaged" in wrong.text
    assert ci.put(f"{BASE}/1.4.0/shop-core-1.4.0.jar.sha256", content="abc").status_code == 400
    missing = ci.put(f"{BASE}/1.4.0/shop-core-1.4.0-sources.jar.sha1", content=hashlib.sha1(b"x").hexdigest())
    assert missing.status_code == 404 and "sources" in missing.text
    assert row_counts(metadata) == before
    assert ci.get(f"{BASE}/1.4.0/shop-core-1.4.0.jar.sha1").text == hashlib.sha1(JAR).hexdigest()


def test_a_release_is_immutable_but_the_same_bytes_again_are_a_no_op(ci: httpx.Client, metadata: SqlMetadataStore) -> None:
    deploy(ci)
    again = ci.put(f"{BASE}/1.4.0/shop-core-1.4.0.jar", content=JAR)
    assert again.status_code == 200
    before = row_counts(metadata)
    other = ci.put(f"{BASE}/1.4.0/shop-core-1.4.0.jar", content=b"other bytes")
    assert other.status_code == 409 and "never change" in other.text
    assert other.headers["content-type"].startswith("text/plain")
    assert row_counts(metadata) == before
    assert ci.get(f"{BASE}/1.4.0/shop-core-1.4.0.jar").content == JAR


def test_signatures_and_classified_files_join_the_version(ci: httpx.Client) -> None:
    deploy(ci)
    asc = b"-----BEGIN PGP SIGNATURE-----\n...\n-----END PGP SIGNATURE-----\n"
    assert ci.put(f"{BASE}/1.4.0/shop-core-1.4.0.jar.asc", content=asc).status_code == 201
    assert ci.put(f"{BASE}/1.4.0/shop-core-1.4.0-sources.jar", content=b"sources").status_code == 201
    assert ci.get(f"{BASE}/1.4.0/shop-core-1.4.0.jar.asc").content == asc
    assert ci.get(f"{BASE}/1.4.0/shop-core-1.4.0-sources.jar").content == b"sources"


def snapshot_file(build: int, stamp: str, ext: str = "jar") -> str:
    return f"{BASE}/1.5.0-SNAPSHOT/shop-core-1.5.0-{stamp}-{build}.{ext}"


def test_snapshot_builds_accumulate_and_the_plain_name_is_the_newest(ci: httpx.Client) -> None:
    assert ci.put(snapshot_file(1, "20261204.101112"), content=b"build one").status_code == 201
    assert ci.put(snapshot_file(1, "20261204.101112", "pom"), content=POM).status_code == 201
    assert ci.put(snapshot_file(2, "20261205.090000"), content=b"build two").status_code == 201
    meta = ET.fromstring(ci.get(f"{BASE}/1.5.0-SNAPSHOT/maven-metadata.xml").content)
    assert meta.findtext("version") == "1.5.0-SNAPSHOT"
    assert meta.findtext("versioning/snapshot/timestamp") == "20261205.090000"
    assert meta.findtext("versioning/snapshot/buildNumber") == "2"
    values = {
        e.findtext("extension"): e.findtext("value") for e in meta.iterfind("versioning/snapshotVersions/snapshotVersion")
    }
    assert values == {"jar": "1.5.0-20261205.090000-2", "pom": "1.5.0-20261204.101112-1"}
    assert ci.get(f"{BASE}/1.5.0-SNAPSHOT/shop-core-1.5.0-SNAPSHOT.jar").content == b"build two"
    assert ci.get(f"{BASE}/1.5.0-SNAPSHOT/shop-core-1.5.0-SNAPSHOT.jar.sha1").text == hashlib.sha1(b"build two").hexdigest()
    assert ci.get(snapshot_file(1, "20261204.101112")).content == b"build one"
    artifact = ET.fromstring(ci.get(f"{BASE}/maven-metadata.xml").content)
    assert artifact.findtext("versioning/latest") == "1.5.0-SNAPSHOT" and artifact.find("versioning/release") is None
    # a snapshot may change while in dev
    assert ci.put(snapshot_file(2, "20261205.090000"), content=b"build two, rebuilt").status_code == 201
    assert ci.get(snapshot_file(2, "20261205.090000")).content == b"build two, rebuilt"


def test_a_direct_deploy_into_prod_is_refused_before_the_body_and_audited(
    maven: MavenClient, services: Services, metadata: SqlMetadataStore
) -> None:
    release = maven("rel", "role:release")
    before = row_counts(metadata)
    refused = release.put("/maven/prod/org/acme/shop-core/1.4.0/shop-core-1.4.0.jar", content=JAR)
    assert refused.status_code == 403 and "promote" in refused.text
    assert refused.headers["content-type"].startswith("text/plain")
    after = row_counts(metadata)
    assert after.pop("audit_events") == before.pop("audit_events") + 1 and after == before
    (event,) = events(services, "artifact:push-refused")
    assert event.actor == "rel"


def test_a_reader_may_not_deploy_and_the_denial_is_audited(maven: MavenClient, services: Services) -> None:
    viewer = maven("vera", "role:viewer")
    denied = viewer.put(f"{BASE}/1.4.0/shop-core-1.4.0.jar", content=JAR)
    assert denied.status_code == 403 and "push" in denied.text
    with services.metadata.reader() as s:
        assert any(e.action == "access:denied" and e.actor == "vera" for e in s.audit.events())
    assert viewer.put(f"{BASE}/maven-metadata.xml", content="<metadata/>").status_code == 403


def test_prod_shows_only_what_was_promoted_with_identical_bytes(
    ci: httpx.Client, maven: MavenClient, client_as: Callable[..., HoistClient], services: Services
) -> None:
    deploy(ci)
    ops = maven("otto", "role:viewer")
    prod = "/maven/prod/org/acme/shop-core"
    assert ops.get(f"{prod}/1.4.0/shop-core-1.4.0.jar").status_code == 404
    assert ops.get(f"{prod}/maven-metadata.xml").status_code == 404
    client_as("rel", ["role:release"]).promote(f"{KEY}@1.4.0", to="prod")
    assert ops.head(f"{prod}/1.4.0/shop-core-1.4.0.jar").headers["content-length"] == str(len(JAR))
    got = ops.get(f"{prod}/1.4.0/shop-core-1.4.0.jar")
    assert got.status_code == 200 and got.content == JAR
    assert ops.get(f"{prod}/1.4.0/shop-core-1.4.0.jar.sha256").text == hashlib.sha256(JAR).hexdigest()
    assert [v.text for v in ET.fromstring(ops.get(f"{prod}/maven-metadata.xml").content).iterfind(".//version")] == ["1.4.0"]
    downloads = events(services, "artifact:download")  # the HEAD took no bytes: not a download
    assert [(e.actor, e.details["file"]) for e in downloads] == [("otto", "shop-core-1.4.0.jar")]
    # sealed by the promotion: dev takes no new file for it either
    late = ci.put(f"{BASE}/1.4.0/shop-core-1.4.0-javadoc.jar", content=b"docs")
    assert late.status_code == 409 and late.headers["content-type"].startswith("text/plain")


def test_anonymous_readers_are_asked_for_basic_credentials(anonymous: httpx.Client) -> None:
    asked = anonymous.get(f"{BASE}/maven-metadata.xml")
    assert asked.status_code == 401 and asked.headers["www-authenticate"] == 'Basic realm="hoist"'
    assert anonymous.put(f"{BASE}/1.4.0/shop-core-1.4.0.jar", content=JAR).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/maven/dev/shop-core-1.4.0.jar", 400),
        ("GET", f"{BASE}/1.4.0/other-1.4.0.jar", 400),
        ("PUT", f"{BASE}/1.4.0/shop-core-1.3.0.jar", 400),
        ("PUT", f"{BASE}/1..0/shop-core-1..0.jar", 400),
        ("PUT", "/maven/dev/org/ac.me/shop-core/1.4.0/shop-core-1.4.0.jar", 400),
        ("GET", f"{BASE}/1.4.0/shop-core-1.4.0.jar", 404),
        ("GET", f"{BASE}/1.4.0/shop-core-1.4.0.jar.sha1", 404),
        ("GET", f"{BASE}/maven-metadata.xml", 404),
        ("GET", f"{BASE}/1.5.0-SNAPSHOT/maven-metadata.xml", 404),
        ("GET", "/maven/nowhere/org/acme/shop-core/maven-metadata.xml", 404),
        ("PUT", "/maven/nowhere/org/acme/shop-core/1.4.0/shop-core-1.4.0.jar", 404),
        ("GET", "/maven/dev", 404),
        ("DELETE", f"{BASE}/1.4.0/shop-core-1.4.0.jar", 405),
    ],
)
def test_bad_requests_get_a_text_answer_and_change_nothing(
    ci: httpx.Client, metadata: SqlMetadataStore, method: str, path: str, status: int
) -> None:
    before = row_counts(metadata)
    answer = ci.request(method, path, content=JAR if method == "PUT" else None)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/plain") and answer.text.strip()
    after = row_counts(metadata)
    after.pop("audit_events"), before.pop("audit_events")  # refusals may be audited
    assert after == before


def test_a_deployed_version_gets_an_sbom_naming_it_as_a_maven_package(
    ci: httpx.Client, client_as: Callable[..., HoistClient], drain: Callable[[], WorkReport]
) -> None:
    deploy(ci)  # JAR holds no pom.properties: the key names the package
    drain()
    sbom = json.loads(client_as("vera", ["role:viewer"]).sbom(f"{KEY}@1.4.0"))
    assert sbom["metadata"]["component"]["purl"] == "pkg:maven/org.acme/shop-core@1.4.0"
