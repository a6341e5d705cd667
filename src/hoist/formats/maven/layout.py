"""Maven's repository layout: what a path under ``/maven/<registry>/`` names.

``g/r/o/u/p/artifact/version/artifact-version[-classifier].ext`` is a file of the version
``groupId:artifactId:version`` (Maven Resolver's ``Maven2RepositoryLayoutFactory``), optionally
followed by a checksum suffix; ``g/r/o/u/p/artifact/maven-metadata.xml`` lists the artifact's
versions and ``.../1.4.0-SNAPSHOT/maven-metadata.xml`` a snapshot's timestamped builds. A
``maven-metadata.xml`` under a directory that is not a SNAPSHOT version is artifact level: Maven only
writes version-level metadata for snapshots.

Snapshot files carry a build stamp instead of ``SNAPSHOT``: ``x-1.4.0-20261204.101112-3.jar`` is build 3
of ``1.4.0-SNAPSHOT``, deployed at 2026-12-04 10:11:12 UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from hoist.domain.errors import InvalidInput, InvalidName
from hoist.domain.names import clip
from hoist.domain.packages import PackageFormat, package_key
from hoist.formats.common.checksums import Algorithm as Checksum

METADATA = "maven-metadata.xml"
SNAPSHOT = "-SNAPSHOT"
MAX_PATH_LENGTH = 1024
# Maven's own coordinate check (DefaultModelValidator: "[A-Za-z0-9_\-.]+"); group path segments carry
# no dot, so that one groupId has one path (org/acme, never org.acme).
_GROUP_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_ARTIFACT = re.compile(r"[A-Za-z0-9_.-]+")
_VERSION = re.compile(r"[A-Za-z0-9_.+-]+")
_CLASSIFIER = re.compile(r"[A-Za-z0-9_-]+")
_EXTENSION = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_STAMP = re.compile(r"(?P<timestamp>\d{8}\.\d{6})-(?P<build>[1-9]\d{0,8})")


@dataclass(frozen=True, slots=True)
class Coordinates:
    group: str
    artifact: str

    @property
    def native_name(self) -> str:
        """``groupId:artifactId``: the name the package key is made of (``maven/<groupId>:<artifactId>``)."""
        return f"{self.group}:{self.artifact}"

    @property
    def key(self) -> str:
        """``maven/<groupId>:<artifactId>``."""
        return package_key(PackageFormat.MAVEN, self.native_name)

    @property
    def path(self) -> str:
        return f"{self.group.replace('.', '/')}/{self.artifact}"


@dataclass(frozen=True, slots=True, order=True)
class SnapshotStamp:
    """``<timestamp>-<buildNumber>`` of a deployed snapshot file; orders by build, then time."""

    build: int
    timestamp: str

    def value(self, base: str) -> str:
        """The file's version: ``1.4.0-20261204.101112-3`` for base ``1.4.0``."""
        return f"{base}-{self.timestamp}-{self.build}"

    @property
    def time(self) -> datetime:
        return datetime.strptime(self.timestamp, "%Y%m%d.%H%M%S").replace(tzinfo=UTC)

    @property
    def updated(self) -> str:
        """maven-metadata.xml's ``updated``/``lastUpdated`` spelling: ``20261204101112``."""
        return self.timestamp.replace(".", "")


@dataclass(frozen=True, slots=True)
class FileName:
    """A file name split against its version: ``x-1.4.0-sources.jar`` → classifier ``sources``, extension ``jar``."""

    name: str
    classifier: str | None
    extension: str
    stamp: SnapshotStamp | None = None


@dataclass(frozen=True, slots=True)
class ArtifactPath:
    """A file of a version, or (``checksum`` set) that file's checksum."""

    coordinates: Coordinates
    version: str
    file: FileName
    checksum: Checksum | None = None

    @property
    def is_snapshot(self) -> bool:
        return self.version.endswith(SNAPSHOT)


@dataclass(frozen=True, slots=True)
class MetadataPath:
    """``maven-metadata.xml`` of an artifact (``version`` None) or of a SNAPSHOT version, or its checksum."""

    coordinates: Coordinates
    version: str | None
    checksum: Checksum | None = None


MavenPath = ArtifactPath | MetadataPath


def parse_path(path: str) -> MavenPath:
    """What a repository path (after ``/maven/<registry>/``) names; ``InvalidInput`` if nothing Maven writes."""
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidInput(f"path {clip(path)!r} is longer than {MAX_PATH_LENGTH} characters", path=clip(path))
    name, checksum = _split_checksum(path.strip("/"))
    parts = name.split("/")
    if parts[-1] == METADATA:
        return _metadata_path(path, parts[:-1], checksum)
    if len(parts) < 4:
        raise InvalidInput(
            f"{clip(path)!r} is not a Maven file path: expected group/path/artifact/version/artifact-version.ext",
            path=clip(path),
        )
    coordinates = _coordinates(path, parts[:-3], parts[-3])
    version = _version(path, parts[-2])
    return ArtifactPath(coordinates, version, split_file_name(coordinates.artifact, version, parts[-1]), checksum)


def split_file_name(artifact: str, version: str, name: str) -> FileName:
    """Split ``name`` as a file of ``artifact:version``; a SNAPSHOT version's files may carry a build stamp."""
    prefix = f"{artifact}-"
    if not name.startswith(prefix):
        raise InvalidInput(f"file {clip(name)!r} does not start with {clip(prefix)!r}", file=clip(name))
    rest = name[len(prefix) :]
    stamp = None
    if rest.startswith(version):
        rest = rest[len(version) :]
    elif version.endswith(SNAPSHOT) and rest.startswith(base := version[: -len(SNAPSHOT)] + "-"):
        m = _STAMP.match(rest, len(base))
        if m is None:
            raise InvalidInput(
                f"file {clip(name)!r} is neither {artifact}-{version}… nor a timestamped build "
                f"{artifact}-{base}<yyyyMMdd.HHmmss>-<build>…",
                file=clip(name),
            )
        stamp = SnapshotStamp(int(m["build"]), m["timestamp"])
        try:
            stamp.time  # noqa: B018 - a stamp must be a real UTC time: metadata sorts and dates by it
        except ValueError:
            raise InvalidInput(
                f"file {clip(name)!r}: {m['timestamp']} is not a yyyyMMdd.HHmmss time", file=clip(name)
            ) from None
        rest = rest[m.end() :]
    else:
        raise InvalidInput(f"file {clip(name)!r} is not a file of version {clip(version)!r}", file=clip(name))
    classifier = None
    if rest.startswith("-"):
        classifier, dot, rest = rest[1:].partition(".")
        if not dot or not _CLASSIFIER.fullmatch(classifier):
            raise InvalidInput(f"file {clip(name)!r}: expected -<classifier>.<extension> after the version", file=clip(name))
    elif rest.startswith("."):
        rest = rest[1:]
    else:
        raise InvalidInput(f"file {clip(name)!r}: expected .<extension> after the version", file=clip(name))
    if not _EXTENSION.fullmatch(rest):
        raise InvalidInput(f"file {clip(name)!r} has no valid extension", file=clip(name))
    return FileName(name, classifier, rest, stamp)


def snapshot_base(version: str) -> str:
    """``1.4.0`` for ``1.4.0-SNAPSHOT``."""
    return version[: -len(SNAPSHOT)] if version.endswith(SNAPSHOT) else version


def _split_checksum(path: str) -> tuple[str, Checksum | None]:
    stem, dot, suffix = path.rpartition(".")
    if dot and suffix in set(Checksum):
        return stem, Checksum(suffix)
    return path, None


def _metadata_path(path: str, parts: list[str], checksum: Checksum | None) -> MetadataPath:
    if len(parts) >= 3 and parts[-1].endswith(SNAPSHOT):
        return MetadataPath(_coordinates(path, parts[:-2], parts[-2]), _version(path, parts[-1]), checksum)
    if len(parts) < 2:
        raise InvalidInput(
            f"{clip(path)!r}: maven-metadata.xml belongs under group/path/artifact/ or a SNAPSHOT version",
            path=clip(path),
        )
    return MetadataPath(_coordinates(path, parts[:-1], parts[-1]), None, checksum)


def _coordinates(path: str, group: list[str], artifact: str) -> Coordinates:
    if not group or not all(_GROUP_SEGMENT.fullmatch(s) for s in group):
        raise InvalidName(
            f"{clip(path)!r}: the group path must be groupId with '/' for '.', each part letters, digits, '_' or '-'",
            path=clip(path),
        )
    if not _ARTIFACT.fullmatch(artifact) or artifact in {".", ".."}:
        raise InvalidName(f"artifactId {clip(artifact)!r} may hold letters, digits, '_', '-' and '.'", path=clip(path))
    return Coordinates(".".join(group), artifact)


def _version(path: str, version: str) -> str:
    if not _VERSION.fullmatch(version) or version in {".", ".."} or version == SNAPSHOT[1:]:
        raise InvalidInput(f"{clip(version)!r} is not a Maven version directory", path=clip(path))
    return version


def snapshot_files(artifact: str, version: str, names: Iterable[str]) -> list[FileName]:
    """The timestamped files among a SNAPSHOT version's file names, split (names that are not, skipped)."""
    found = []
    for name in names:
        try:
            split = split_file_name(artifact, version, name)
        except InvalidInput:
            continue  # a file Maven never names (stored by another client): not part of a build
        if split.stamp is not None:
            found.append(split)
    return found


def newest_build(artifact: str, version: str, wanted: FileName, names: Iterable[str]) -> str | None:
    """The stored file a plain ``x-1.4.0-SNAPSHOT[-classifier].ext`` name stands for: the newest
    timestamped file with that classifier and extension (what Maven resolves through the metadata)."""
    candidates = [
        (f.stamp, f.name)
        for f in snapshot_files(artifact, version, names)
        if f.stamp is not None and (f.classifier, f.extension) == (wanted.classifier, wanted.extension)
    ]
    return max(candidates)[1] if candidates else None
