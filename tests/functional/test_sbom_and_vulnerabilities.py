"""SBOMs generated at push or supplied, the "am I affected?" index, OSV advisories, the
vulnerability and SBOM gates, and the provenance chain verified by the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from hoist.cli.context import Cli
from hoist.cli.exits import INTEGRITY, REFUSED, USAGE
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.domain.jobs import WorkReport
from hoist.domain.manifests import OCI_MANIFEST
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.helpers import push, row_counts
from tests.functional.oci_helpers import CONFIG, LAYER, image_manifest, push_blob, put_manifest
from tests.pypi_files import tar_gz

LOG4SHELL = {
    "id": "GHSA-jfh8-c2jp-5v3q",
    "modified": "2024-02-01T00:00:00Z",
    "aliases": ["CVE-2021-44228"],
    "summary": "Remote code injection in Log4j",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
    "affected": [
        {
            "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "2.0-beta9"},
                        {"fixed": "2.3.1"},
                        {"introduced": "2.4"},
                        {"fixed": "2.12.2"},
                        {"introduced": "2.13.0"},
                        {"fixed": "2.15.0"},
                    ],
                }
            ],
        }
    ],
}


@pytest.fixture
def config_text() -> str:
    return """
[registries.dev]
overwrite_snapshots = true
seal_on_promotion = false

[registries.prod]
direct_push = false
promote_from = ["dev"]
require_sbom = true
max_severity = "high"
promotion.attestations = ["unit-tests"]

[environments.dev]
registry = "dev"
[environments.prod]
registry = "prod"

[ceilings]
snapshot = "dev"
rc = "dev"
release = "prod"
"""


def cyclonedx(*components: tuple[str, str, str]) -> bytes:
    """A supplied CycloneDX 1.6 SBOM listing maven components (group, name, version)."""
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "metadata": {"component": {"type": "application", "name": "shop-api", "bom-ref": "root"}},
            "components": [
                {
                    "type": "library",
                    "bom-ref": f"pkg:maven/{g}/{n}@{v}",
                    "group": g,
                    "name": n,
                    "version": v,
                    "purl": f"pkg:maven/{g}/{n}@{v}",
                }
                for g, n, v in components
            ],
        }
    ).encode()


def wheel(tmp_path: Path) -> Path:
    path = tmp_path / "shop_api-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("shop_api/__init__.py", "")
        z.writestr(
            "shop_api-1.0.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: shop-api\nVersion: 1.0.0\nRequires-Dist: requests\n",
        )
        z.writestr("shop_api/_vendor/six-1.16.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n")
        z.writestr("shop_api-1.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return path


def hoist(client: HoistClient, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)


def test_an_sbom_is_generated_at_push_and_exported_as_spdx(
    http: httpx.Client, client: HoistClient, tmp_path: Path, drain: Callable[[], WorkReport]
) -> None:
    path = wheel(tmp_path)
    blob = client.upload(path)
    digest = client.publish(package="shop-api", version="1.0.0", files=[{"name": path.name, **blob}])["artifact"]["digest"]
    drain()
    document = json.loads(client.sbom("shop-api@1.0.0"))
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    purls = {c.get("purl") for c in document["components"]}
    assert "pkg:pypi/six@1.16.0" in purls
    referrers = http.get(f"/v2/dev/shop-api/referrers/{digest}").json()["manifests"]
    assert [r["artifactType"] for r in referrers] == ["application/vnd.cyclonedx+json"]
    spdx = json.loads(client.sbom("shop-api@1.0.0", format="spdx"))
    assert spdx["spdxVersion"] == "SPDX-2.3"
    refs = [r["referenceLocator"] for p in spdx["packages"] for r in p.get("externalRefs", [])]
    assert "pkg:pypi/six@1.16.0" in refs
    found = client.affected("six")
    assert [(a["package"], a["version"]) for a in found["artifacts"]] == [("shop-api", "1.0.0")]


def test_am_i_affected_answers_from_the_index_with_ranges_and_running_environments(
    client: HoistClient, tmp_path: Path
) -> None:
    push(client, tmp_path, version="1.0.0")
    push(client, tmp_path, version="1.1.0", content=b"other bytes")
    push(client, tmp_path, package="billing", version="3.0.0", content=b"billing")
    client.attach_sbom("shop-api@1.0.0", cyclonedx(("org.apache.logging.log4j", "log4j-core", "2.14.1")))
    client.attach_sbom("shop-api@1.1.0", cyclonedx(("org.apache.logging.log4j", "log4j-core", "2.17.1")))
    client.attach_sbom("billing@3.0.0", cyclonedx(("org.apache.logging.log4j", "log4j-api", "2.14.1")))
    client.deploy("shop-api@1.0.0", environment="dev")

    everything = client.affected("log4j-core")
    assert [a["version"] for a in everything["artifacts"]] == ["1.0.0", "1.1.0"]
    vulnerable = client.affected("log4j-core", range="<2.17.1")
    assert [(a["package"], a["version"]) for a in vulnerable["artifacts"]] == [("shop-api", "1.0.0")]
    assert vulnerable["artifacts"][0]["registries"] == ["dev"]
    assert [(r["environment"], r["version"]) for r in vulnerable["running"]] == [("dev", "1.0.0")]
    by_purl = client.affected("pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1")
    assert [a["version"] for a in by_purl["artifacts"]] == ["1.1.0"]
    assert client.affected("log4j-core", range="vers:maven/>=2.0.0|<2.3.1")["artifacts"] == []
    with pytest.raises(e.InvalidInput, match="range"):
        client.affected("log4j-core", range="^2.0")


def test_a_bad_sbom_is_refused_and_changes_nothing(client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore) -> None:
    push(client, tmp_path, version="1.0.0")
    before = row_counts(metadata)
    bad = json.loads(cyclonedx(("g", "n", "1")))
    bad["components"][0]["type"] = "not-a-type"
    for document in (b"not json", json.dumps(bad).encode(), b'{"spdxVersion": "SPDX-2.2"}'):
        with pytest.raises(e.InvalidInput):
            client.attach_sbom("shop-api@1.0.0", document)
    assert row_counts(metadata) == before


def test_osv_advisories_drive_the_report_and_the_promotion_gate(
    client: HoistClient, client_as: Callable[[str], HoistClient], tmp_path: Path
) -> None:
    push(client, tmp_path, version="1.0.0")
    client.attest("shop-api@1.0.0", type="unit-tests", result="pass")
    client.attach_sbom("shop-api@1.0.0", cyclonedx(("org.apache.logging.log4j", "log4j-core", "2.14.1")))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("GHSA-jfh8-c2jp-5v3q.json", json.dumps(LOG4SHELL))
    imported = client.import_advisories(archive.getvalue(), filename="all.zip")
    assert (imported["created"], imported["total"]) == (1, 1)
    again = client.import_advisories(json.dumps(LOG4SHELL).encode(), filename="one.json")
    assert (again["created"], again["unchanged"]) == (0, 1)

    report = client.vulnerabilities("shop-api@1.0.0")
    assert report["highest"] == "critical" and [f["id"] for f in report["findings"]] == ["GHSA-jfh8-c2jp-5v3q"]
    assert report["findings"][0]["component"]["version"] == "2.14.1"
    with pytest.raises(e.PromotionRefused) as refused:
        client.promote("shop-api@1.0.0", to="prod")
    (problem,) = [p for p in refused.value.problems if p.gate == "vulnerabilities"]
    assert "GHSA-jfh8-c2jp-5v3q (critical)" in problem.message
    out = hoist(client, "vuln", "report", "shop-api@1.0.0", "--fail-on", "high")
    assert out.exit_code == REFUSED and "GHSA-jfh8-c2jp-5v3q" in out.output

    push(client, tmp_path, version="1.0.1", content=b"fixed")
    client.attest("shop-api@1.0.1", type="unit-tests", result="pass")
    client.attach_sbom("shop-api@1.0.1", cyclonedx(("org.apache.logging.log4j", "log4j-core", "2.17.1")))
    assert client.vulnerabilities("shop-api@1.0.1")["findings"] == []
    assert client.promote("shop-api@1.0.1", to="prod")["status"] == "promoted"


def test_bad_advisories_import_nothing(client: HoistClient) -> None:
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("good.json", json.dumps(LOG4SHELL))
        z.writestr("bad.json", "{not json")
    with pytest.raises(e.InvalidInput, match=r"bad\.json"):
        client.import_advisories(broken.getvalue(), filename="all.zip")
    with pytest.raises(e.InvalidInput):
        client.import_advisories(json.dumps({"id": "X"}).encode(), filename="x.json")
    assert client.import_advisories(b"[]", filename="none.json")["total"] == 0


def test_provenance_verifies_every_link_and_fails_on_a_tampered_one(
    client: HoistClient, client_as: Callable[[str], HoistClient], tmp_path: Path, blobs: FilesystemBlobStore
) -> None:
    push(client, tmp_path, version="1.0.0")
    client.attest("shop-api@1.0.0", type="unit-tests", result="pass")
    client.attach_sbom("shop-api@1.0.0", cyclonedx(("org.apache.logging.log4j", "log4j-core", "2.17.1")))
    client.promote("shop-api@1.0.0", to="prod")
    out = hoist(client, "--json", "provenance", "shop-api@1.0.0", "--env", "prod")
    assert out.exit_code == 0, out.output
    chain = json.loads(out.output)
    kinds = [link["kind"] for link in chain["links"]]
    assert chain["verified"] and {"environment", "digest", "build", "sbom", "test-result", "promotion"} <= set(kinds)
    promotion = next(link for link in chain["links"] if link["kind"] == "promotion")
    assert promotion["data"]["decision"]["to"] == "prod"
    assert hoist(client, "verify", "shop-api@1.0.0", "--env", "prod").exit_code == 0

    summary = next(x for x in client.artifact("shop-api@1.0.0")["attachments"] if x["type"] == "verification-summary")
    path = blobs.path(Digest.parse(summary["details"]["envelope"]))
    assert path is not None
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b'"payloadType"', b'"payloadtype"'))
    failed = hoist(client, "--json", "verify", "shop-api@1.0.0", "--env", "prod")
    assert failed.exit_code == INTEGRITY
    (problem,) = json.loads(failed.stdout)["failed"]
    # the server re-hashes a small blob before serving it: it refuses the tampered envelope (BLOB_CORRUPT)
    assert problem.startswith("promotion verification-summary") and "BLOB_CORRUPT" in problem
    assert summary["details"]["envelope"] in problem
    assert hoist(client, "provenance", "shop-api@1.0.0").exit_code == INTEGRITY


def test_verify_refuses_an_artifact_not_in_the_environment(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0")
    out = hoist(client, "verify", "shop-api@1.0.0", "--env", "prod")
    assert out.exit_code == INTEGRITY and "not in prod" in out.output
    assert hoist(client, "verify", "shop-api@nope", "--env", "prod").exit_code == USAGE


def image_layer(files: dict[str, bytes]) -> bytes:
    return tar_gz(files)


def test_an_image_gets_an_sbom_from_its_layers_and_an_unreadable_one_is_held_at_the_gate(
    http: httpx.Client, client: HoistClient, drain: Callable[[], WorkReport]
) -> None:
    status = b"Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\n\n"
    layer = image_layer({"etc/os-release": b'ID=debian\nVERSION_ID="12"\n', "var/lib/dpkg/status": status})
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
    cfg = push_blob(http, "dev/shop/web", config)
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": CONFIG, **cfg},
            "layers": [{"mediaType": LAYER, **push_blob(http, "dev/shop/web", layer)}],
        }
    ).encode()
    assert put_manifest(http, "dev/shop/web", "1.0.0", raw).status_code == 201
    drain()
    found = client.affected("pkg:deb/debian/openssl")
    assert [(a["package"], a["components"][0]["version"]) for a in found["artifacts"]] == [("shop/web", "3.0.11-1~deb12u2")]

    put_manifest(http, "dev/shop/web", "2.0.0", image_manifest(http, "dev/shop/web"))  # random bytes, not a tar
    assert drain().ran == 1  # fails: retried later, pending until then
    client.attest("shop/web@2.0.0", type="unit-tests", result="pass")
    with pytest.raises(e.PromotionRefused) as refused:
        client.promote("shop/web@2.0.0", to="prod")
    assert {p.gate for p in refused.value.problems} == {"sbom", "vulnerabilities"}
    client.attach_sbom("shop/web@2.0.0", cyclonedx(("org.example", "lib", "1.0")))
    assert client.promote("shop/web@2.0.0", to="prod")["status"] == "promoted"
