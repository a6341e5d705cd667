"""``maven-metadata.xml``: rendered from what a registry holds, and uploaded copies checked, never kept.

The server is the one source of the metadata (an uploaded copy could list versions this registry
does not hold, or hide ones it does), so a client's upload is only checked: well-formed, no DTD (no
entity expansion, no external entities), about the artifact its path names. Formats: Maven's
``repository-metadata.mdo`` (1.1.0).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.parsers import expat

from hoist.domain.errors import InvalidInput
from hoist.domain.names import clip
from hoist.formats.maven.layout import Coordinates, SnapshotStamp, snapshot_base

MAX_METADATA_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    """One timestamped file of a SNAPSHOT version, as ``<snapshotVersions>`` lists it."""

    classifier: str | None
    extension: str
    stamp: SnapshotStamp


def last_updated(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def render_artifact(
    coordinates: Coordinates, versions: Sequence[str], snapshots: Sequence[bool], updated: datetime
) -> bytes:
    """Artifact-level metadata; ``versions`` in Maven's order, oldest first, with whether each is a SNAPSHOT.
    ``latest`` is the newest version, ``release`` the newest that is not a SNAPSHOT."""
    root = _root(coordinates)
    versioning = ET.SubElement(root, "versioning")
    if versions:
        _text(versioning, "latest", versions[-1])
    releases = [v for v, snapshot in zip(versions, snapshots, strict=True) if not snapshot]
    if releases:
        _text(versioning, "release", releases[-1])
    listed = ET.SubElement(versioning, "versions")
    for version in versions:
        _text(listed, "version", version)
    _text(versioning, "lastUpdated", last_updated(updated))
    return _serialise(root)


def render_snapshot(coordinates: Coordinates, version: str, files: Sequence[SnapshotFile], updated: datetime) -> bytes:
    """SNAPSHOT-version metadata: the newest build, and for each (classifier, extension) its newest file."""
    root = _root(coordinates)
    _text(root, "version", version)
    versioning = ET.SubElement(root, "versioning")
    newest: dict[tuple[str, str], SnapshotFile] = {}
    for f in files:
        key = (f.classifier or "", f.extension)
        if key not in newest or newest[key].stamp < f.stamp:
            newest[key] = f
    if newest:
        stamp = max(f.stamp for f in newest.values())
        snapshot = ET.SubElement(versioning, "snapshot")
        _text(snapshot, "timestamp", stamp.timestamp)
        _text(snapshot, "buildNumber", str(stamp.build))
    _text(versioning, "lastUpdated", last_updated(updated))
    listed = ET.SubElement(versioning, "snapshotVersions")
    base = snapshot_base(version)
    for (classifier, extension), f in sorted(newest.items()):
        entry = ET.SubElement(listed, "snapshotVersion")
        if classifier:
            _text(entry, "classifier", classifier)
        _text(entry, "extension", extension)
        _text(entry, "value", f.stamp.value(base))
        _text(entry, "updated", f.stamp.updated)
    return _serialise(root)


def check_uploaded(data: bytes, coordinates: Coordinates, version: str | None) -> None:
    """Refuse (``InvalidInput``) an uploaded maven-metadata.xml that is oversized, malformed, has a
    DTD, or names another groupId, artifactId or (version level) version than its path."""
    if len(data) > MAX_METADATA_BYTES:
        raise InvalidInput(f"maven-metadata.xml is over {MAX_METADATA_BYTES} bytes")
    root = _parse(data)
    if _local(root.tag) != "metadata":
        raise InvalidInput(f"maven-metadata.xml: the root element is <{clip(_local(root.tag))}>, not <metadata>")
    expected = {"groupId": coordinates.group, "artifactId": coordinates.artifact}
    if version is not None:
        expected["version"] = version
    for name, value in expected.items():
        found = _child_text(root, name)
        if found is not None and found != value:
            raise InvalidInput(
                f"maven-metadata.xml names {name} {clip(found)!r}, but its path is for {clip(value)!r}",
                **{name: clip(found)},
            )


def _parse(data: bytes) -> ET.Element:
    # A first pass with expat's declaration handlers refuses any DTD before ElementTree sees the
    # bytes: internal entities (billion laughs) and external ones (XXE) are both declared there.
    guard = expat.ParserCreate()
    guard.StartDoctypeDeclHandler = _refuse_dtd
    guard.EntityDeclHandler = _refuse_dtd
    try:
        guard.Parse(data, True)
        return ET.fromstring(data)  # noqa: S314 - the expat pass above refused any DTD
    except (expat.ExpatError, ET.ParseError) as exc:
        raise InvalidInput(f"maven-metadata.xml is not well-formed XML: {exc}") from None


def _refuse_dtd(*_: object) -> None:
    raise InvalidInput("maven-metadata.xml may not contain a DTD (<!DOCTYPE> or <!ENTITY>)")


def _local(tag: str) -> str:
    """The element name without its namespace (Maven 3.9 writes ``xmlns="http://maven.apache.org/METADATA/1.1.0"``)."""
    return tag.rpartition("}")[2]


def _child_text(root: ET.Element, name: str) -> str | None:
    for child in root:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return None


def _root(coordinates: Coordinates) -> ET.Element:
    root = ET.Element("metadata", {"modelVersion": "1.1.0"})
    _text(root, "groupId", coordinates.group)
    _text(root, "artifactId", coordinates.artifact)
    return root


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"
