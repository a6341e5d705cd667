"""Native packages' versions through the SQL repositories, on SQLite and on a real PostgreSQL:
stored under their keys, read back in their own scheme, order and channel."""

from __future__ import annotations

from datetime import UTC, datetime

from hoist.domain.digests import Digest
from hoist.domain.manifests import generic_manifest, parse_manifest
from hoist.domain.models import Artifact, DeploymentKind, DeploymentStatus, FileEntry
from hoist.domain.packages import PackageFormat, package_key, scheme_for, version_of
from hoist.domain.versions import Channel, parse_version
from hoist.metadata.sql.store import SqlMetadataStore

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
PYPI = package_key(PackageFormat.PYPI, "Shop.Utils")
MAVEN = package_key(PackageFormat.MAVEN, "org.acme:shop-core")


def add(store: SqlMetadataStore, key: str, fmt: PackageFormat, text: str) -> Artifact:
    version = parse_version(scheme_for(fmt), text)
    content = f"{key}@{text}".encode()
    manifest = parse_manifest(generic_manifest(key, version, [FileEntry("f.bin", Digest.of(content), len(content))]))
    with store.session() as s:
        s.manifests.add(manifest, now=NOW)
        return s.artifacts.add(
            package=key,
            format=str(fmt),
            version=version,
            manifest=manifest,
            ceiling="prod",
            pushed_by="ci",
            pushed_at=NOW,
            pipeline=None,
        )


def test_pypi_versions_come_back_in_pep_440_order_and_channels(metadata: SqlMetadataStore) -> None:
    for text in ["1.4.0", "1.4.0rc1", "1.4.0.post1", "1.4.0.dev2", "1.10.0", "1.4.0a1", "1.4.0.57"]:
        add(metadata, PYPI, PackageFormat.PYPI, text)
    with metadata.reader() as s:
        found = s.artifacts.find(package=PYPI)
        assert [str(a.version) for a in found] == [
            "1.4.0.dev2",
            "1.4.0a1",
            "1.4.0rc1",
            "1.4.0",
            "1.4.0.post1",
            "1.4.0.57",
            "1.10.0",
        ]
        assert {str(a.version): a.channel for a in found} == {
            "1.4.0.dev2": Channel.SNAPSHOT,
            "1.4.0a1": Channel.RC,
            "1.4.0rc1": Channel.RC,
            "1.4.0": Channel.RELEASE,
            "1.4.0.post1": Channel.RELEASE,
            "1.4.0.57": Channel.RELEASE,
            "1.10.0": Channel.RELEASE,
        }
        assert all(a.package == "pypi/shop-utils" and a.format == "pypi" for a in found)
        # any spelling of a version finds it: the key is the normalised spelling
        got = s.artifacts.get(PYPI, version_of(PYPI, "1.4.0-RC1"))
        assert got is not None
        assert str(got.version) == "1.4.0rc1"


def test_maven_versions_come_back_in_maven_order_and_channels(metadata: SqlMetadataStore) -> None:
    for text in ["1.0", "1.0-SNAPSHOT", "1.0-RC1", "1.0-alpha-1", "4.1.100.Final", "1.0.1", "1.0-sp1"]:
        add(metadata, MAVEN, PackageFormat.MAVEN, text)
    with metadata.reader() as s:
        found = s.artifacts.find(package=MAVEN)
        assert [str(a.version) for a in found] == [
            "1.0-alpha-1",
            "1.0-RC1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp1",
            "1.0.1",
            "4.1.100.Final",
        ]
        channels = {str(a.version): a.channel for a in found}
        assert channels["1.0-SNAPSHOT"] is Channel.SNAPSHOT
        assert channels["1.0-RC1"] is Channel.RC
        assert channels["1.0-alpha-1"] is Channel.RC
        assert channels["4.1.100.Final"] is Channel.RELEASE
        assert s.artifacts.package_format(MAVEN) == "maven"


def test_build_numbers_of_native_versions_count_per_base(metadata: SqlMetadataStore) -> None:
    add(metadata, PYPI, PackageFormat.PYPI, "1.4.0.7")
    add(metadata, MAVEN, PackageFormat.MAVEN, "1.4.0.3")
    with metadata.session() as s:
        assert s.artifacts.next_build(PYPI, version_of(PYPI, "1.4.0")) == 8
        assert s.artifacts.next_build(MAVEN, version_of(MAVEN, "1.4.0")) == 4
        assert s.artifacts.next_build(PYPI, version_of(PYPI, "1.5.0")) == 1


def test_deployments_of_native_versions_read_back_in_their_scheme(metadata: SqlMetadataStore) -> None:
    artifact = add(metadata, MAVEN, PackageFormat.MAVEN, "1.0-RC1")
    with metadata.session() as s:
        s.deployments.add(
            artifact,
            "dev",
            status=DeploymentStatus.STARTED,
            kind=DeploymentKind.DEPLOY,
            actor="ops",
            now=NOW,
            pipeline=None,
            reason=None,
        )
    with metadata.reader() as s:
        (deployment,) = s.deployments.history(package=MAVEN)
        assert deployment.version == artifact.version
        assert deployment.version.channel is Channel.RC
