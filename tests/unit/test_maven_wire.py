"""The Maven view's pure pieces: paths, file names, metadata rendering and uploaded-metadata checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from hoist.domain.errors import InvalidDigest, InvalidInput
from hoist.formats.common.checksums import Algorithm, parse_checksum_file, same_checksum
from hoist.formats.maven.layout import (
    ArtifactPath,
    Coordinates,
    FileName,
    MetadataPath,
    SnapshotStamp,
    newest_build,
    parse_path,
    snapshot_files,
    split_file_name,
)
from hoist.formats.maven.metadata import SnapshotFile, check_uploaded, render_artifact, render_snapshot

SHOP = Coordinates("org.acme", "shop-core")
WHEN = datetime(2026, 12, 4, 10, 11, 12, tzinfo=UTC)


def test_a_release_jar_path_names_group_artifact_version_and_file() -> None:
    parsed = parse_path("org/acme/shop-core/1.4.0/shop-core-1.4.0.jar")
    assert parsed == ArtifactPath(SHOP, "1.4.0", FileName("shop-core-1.4.0.jar", None, "jar"))
    assert parsed.coordinates.key == "maven/org.acme:shop-core"
    assert not parsed.is_snapshot


@pytest.mark.parametrize(
    ("name", "classifier", "extension", "checksum"),
    [
        ("shop-core-1.4.0-sources.jar", "sources", "jar", None),
        ("shop-core-1.4.0.pom.sha1", None, "pom", Algorithm.SHA1),
        ("shop-core-1.4.0.jar.asc", None, "jar.asc", None),
        ("shop-core-1.4.0.jar.asc.md5", None, "jar.asc", Algorithm.MD5),
        ("shop-core-1.4.0-linux-x86_64.tar.gz.sha512", "linux-x86_64", "tar.gz", Algorithm.SHA512),
    ],
)
def test_classifiers_extensions_and_checksum_suffixes_are_split(
    name: str, classifier: str | None, extension: str, checksum: Algorithm | None
) -> None:
    parsed = parse_path(f"org/acme/shop-core/1.4.0/{name}")
    assert isinstance(parsed, ArtifactPath)
    assert (parsed.file.classifier, parsed.file.extension, parsed.checksum) == (classifier, extension, checksum)
    assert parsed.file.name == name.removesuffix(f".{checksum}" if checksum else "")


def test_a_timestamped_snapshot_file_is_a_build_of_the_snapshot_version() -> None:
    parsed = parse_path("org/acme/shop-core/1.4.0-SNAPSHOT/shop-core-1.4.0-20261204.101112-3-sources.jar")
    assert isinstance(parsed, ArtifactPath)
    assert parsed.version == "1.4.0-SNAPSHOT" and parsed.is_snapshot
    assert parsed.file.stamp == SnapshotStamp(3, "20261204.101112")
    assert parsed.file.classifier == "sources"
    assert parsed.file.stamp.value("1.4.0") == "1.4.0-20261204.101112-3"


def test_a_plain_snapshot_file_name_has_no_stamp() -> None:
    parsed = parse_path("org/acme/shop-core/1.4.0-SNAPSHOT/shop-core-1.4.0-SNAPSHOT.jar")
    assert isinstance(parsed, ArtifactPath)
    assert parsed.file.stamp is None and parsed.file.extension == "jar"


def test_metadata_is_artifact_level_unless_under_a_snapshot_version() -> None:
    assert parse_path("org/acme/shop-core/maven-metadata.xml") == MetadataPath(SHOP, None)
    assert parse_path("org/acme/shop-core/maven-metadata.xml.sha256") == MetadataPath(SHOP, None, Algorithm.SHA256)
    assert parse_path("org/acme/shop-core/1.4.0-SNAPSHOT/maven-metadata.xml") == MetadataPath(SHOP, "1.4.0-SNAPSHOT")


@pytest.mark.parametrize(
    "path",
    [
        "shop-core-1.4.0.jar",
        "acme/shop-core-1.4.0.jar",
        "org/acme/shop-core/1.4.0/other-1.4.0.jar",
        "org/acme/shop-core/1.4.0/shop-core-1.3.0.jar",
        "org/acme/shop-core/1.4.0/shop-core-1.4.0",
        "org/acme/shop-core/1.4.0/shop-core-1.4.0-.jar",
        "org/acme/shop-core/1.4.0/shop-core-1.4.0-sources",
        "org/acme/shop-core/1.4.0-SNAPSHOT/shop-core-1.4.0-2026.1-3.jar",
        "org/acme/shop-core/1.4.0-SNAPSHOT/shop-core-1.4.0-20261204.101112-0.jar",
        "org/acme/shop-core/1.4.0-SNAPSHOT/shop-core-1.4.0-20261399.256199-1.jar",
        "org/../shop-core/1.4.0/shop-core-1.4.0.jar",
        "org/ac.me/shop-core/1.4.0/shop-core-1.4.0.jar",
        "org/acme/shop core/1.4.0/shop core-1.4.0.jar",
        "org/acme/shop-core/../shop-core-...jar",
        "org/acme/shop-core/1.4.0/shop-core-1.4.0.jar\x00",
        "maven-metadata.xml",
        "shop-core/maven-metadata.xml",
        "org/acme/shop-core/1.4.0/" + "x" * 2000,
    ],
)
def test_paths_maven_never_writes_are_refused(path: str) -> None:
    with pytest.raises(InvalidInput):
        parse_path(path)


def _tree(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def test_artifact_metadata_lists_versions_latest_and_newest_release() -> None:
    data = render_artifact(SHOP, ["1.3.0", "1.4.0", "1.5.0-SNAPSHOT"], [False, False, True], WHEN)
    root = _tree(data)
    assert root.findtext("groupId") == "org.acme" and root.findtext("artifactId") == "shop-core"
    assert [v.text for v in root.iterfind("versioning/versions/version")] == ["1.3.0", "1.4.0", "1.5.0-SNAPSHOT"]
    assert root.findtext("versioning/latest") == "1.5.0-SNAPSHOT"
    assert root.findtext("versioning/release") == "1.4.0"
    assert root.findtext("versioning/lastUpdated") == "20261204101112"
    assert data == render_artifact(SHOP, ["1.3.0", "1.4.0", "1.5.0-SNAPSHOT"], [False, False, True], WHEN)


def test_artifact_metadata_with_only_snapshots_has_no_release() -> None:
    root = _tree(render_artifact(SHOP, ["1.5.0-SNAPSHOT"], [True], WHEN))
    assert root.find("versioning/release") is None


def test_snapshot_metadata_names_the_newest_build_of_each_file_kind() -> None:
    files = [
        SnapshotFile(None, "jar", SnapshotStamp(3, "20261204.101112")),
        SnapshotFile(None, "jar", SnapshotStamp(4, "20261205.090000")),
        SnapshotFile(None, "pom", SnapshotStamp(4, "20261205.090000")),
        SnapshotFile("sources", "jar", SnapshotStamp(3, "20261204.101112")),
    ]
    root = _tree(render_snapshot(SHOP, "1.4.0-SNAPSHOT", files, WHEN))
    assert root.findtext("version") == "1.4.0-SNAPSHOT"
    assert root.findtext("versioning/snapshot/timestamp") == "20261205.090000"
    assert root.findtext("versioning/snapshot/buildNumber") == "4"
    listed = {
        (e.findtext("classifier"), e.findtext("extension")): (e.findtext("value"), e.findtext("updated"))
        for e in root.iterfind("versioning/snapshotVersions/snapshotVersion")
    }
    assert listed == {
        (None, "jar"): ("1.4.0-20261205.090000-4", "20261205090000"),
        (None, "pom"): ("1.4.0-20261205.090000-4", "20261205090000"),
        ("sources", "jar"): ("1.4.0-20261204.101112-3", "20261204101112"),
    }


def test_names_with_markup_characters_are_escaped() -> None:
    # Paths cannot carry '<' or '&', but the renderer must not depend on that.
    root = _tree(render_artifact(Coordinates("a&b", "c<d"), ["1.0"], [False], WHEN))
    assert root.findtext("groupId") == "a&b" and root.findtext("artifactId") == "c<d"


MAVEN_UPLOAD = b"""<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://maven.apache.org/METADATA/1.1.0" modelVersion="1.1.0">
  <groupId>org.acme</groupId>
  <artifactId>shop-core</artifactId>
  <versioning><release>1.4.0</release><versions><version>1.4.0</version></versions></versioning>
</metadata>
"""


def test_uploaded_metadata_about_the_path_is_accepted() -> None:
    check_uploaded(MAVEN_UPLOAD, SHOP, None)
    check_uploaded(MAVEN_UPLOAD.replace(b' xmlns="http://maven.apache.org/METADATA/1.1.0"', b""), SHOP, None)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (MAVEN_UPLOAD.replace(b"org.acme", b"org.evil"), "groupId"),
        (MAVEN_UPLOAD.replace(b"<artifactId>shop-core", b"<artifactId>other"), "artifactId"),
        (MAVEN_UPLOAD.replace(b"</metadata>", b""), "well-formed"),
        (b"<project/>", "<metadata>"),
        (b"", "well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><metadata>&x;</metadata>',
            "DTD",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><metadata>&b;</metadata>',
            "DTD",
        ),
        ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE m><metadata/>'.encode("utf-16"), "DTD"),
        (b"<metadata>" + b" " * (1024 * 1024) + b"</metadata>", "bytes"),
    ],
)
def test_uploaded_metadata_that_is_hostile_or_about_something_else_is_refused(data: bytes, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        check_uploaded(data, SHOP, None)


def test_uploaded_snapshot_metadata_must_name_its_version() -> None:
    data = MAVEN_UPLOAD.replace(b"<versioning>", b"<version>1.4.0-SNAPSHOT</version><versioning>")
    check_uploaded(data, SHOP, "1.4.0-SNAPSHOT")
    with pytest.raises(InvalidInput, match="version"):
        check_uploaded(data, SHOP, "1.5.0-SNAPSHOT")


def test_checksum_files_are_parsed_in_any_case_and_sha1sum_form() -> None:
    sha1 = Algorithm.SHA1.of(b"hello world")
    assert sha1 == "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"
    assert Algorithm.MD5.of(b"hello world") == "5eb63bbbe01eeed093cb22bb8f5acdc3"
    assert parse_checksum_file(Algorithm.SHA1, b"2AAE6C35C94FCFB415DBE95F408B9CE91EE846ED  x.jar\n") == sha1
    assert same_checksum(sha1, sha1.upper())
    for bad in (b"", b"xyz", b"2aae6c35c94fcfb415dbe95f408b9ce91ee846e", b"0" * 2000):
        with pytest.raises(InvalidInput):
            parse_checksum_file(Algorithm.SHA1, bad)
    with pytest.raises(InvalidDigest):
        parse_checksum_file(Algorithm.MD5, sha1.encode())


def test_a_plain_snapshot_name_resolves_to_the_newest_build_of_that_kind() -> None:
    names = [
        "shop-core-1.4.0-20261204.101112-3.jar",
        "shop-core-1.4.0-20261205.090000-4.jar",
        "shop-core-1.4.0-20261205.090000-4.pom",
        "shop-core-1.4.0-20261206.090000-5-sources.jar",
        "shop-core-1.4.0-SNAPSHOT.zip",
        "notes.txt",
    ]
    plain = split_file_name("shop-core", "1.4.0-SNAPSHOT", "shop-core-1.4.0-SNAPSHOT.jar")
    assert newest_build("shop-core", "1.4.0-SNAPSHOT", plain, names) == "shop-core-1.4.0-20261205.090000-4.jar"
    sources = split_file_name("shop-core", "1.4.0-SNAPSHOT", "shop-core-1.4.0-SNAPSHOT-sources.jar")
    assert newest_build("shop-core", "1.4.0-SNAPSHOT", sources, names) == "shop-core-1.4.0-20261206.090000-5-sources.jar"
    war = split_file_name("shop-core", "1.4.0-SNAPSHOT", "shop-core-1.4.0-SNAPSHOT.war")
    assert newest_build("shop-core", "1.4.0-SNAPSHOT", war, names) is None
    assert [f.name for f in snapshot_files("shop-core", "1.4.0-SNAPSHOT", names)] == names[:4]
