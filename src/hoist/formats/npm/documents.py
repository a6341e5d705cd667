"""The JSON documents npm PUTs on a package: a publish (one version and its tarball as a base64
attachment) or the packument sent back changed (``npm deprecate``; ``npm unpublish`` of one
version). Only what can be checked is taken: versions, tags and deprecation messages; every
other field of the client's metadata is ignored, since the served metadata comes from the tarball."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hoist.domain.errors import InvalidInput
from hoist.domain.jsonlimits import MIB, read_json
from hoist.domain.models import FileEntry
from hoist.domain.names import clip
from hoist.formats.npm.names import npm_version, shown
from hoist.formats.npm.tarballs import MAX_TARBALL_BYTES, integrity, shasum


def document_limit(tarball_limit: int = MAX_TARBALL_BYTES) -> int:
    """The largest publish document: base64 makes the tarball 4/3 larger; the rest is the
    client's metadata."""
    return tarball_limit * 4 // 3 + 16 * MIB


@dataclass(frozen=True, slots=True)
class Publication:
    name: str
    version: str
    data: str  # the tarball, base64
    tags: tuple[str, ...]  # dist-tags the client asks to point at the version
    claimed: dict[str, Any]  # the client's dist (integrity, shasum): checked against the bytes


@dataclass(frozen=True, slots=True)
class Changes:
    """A packument sent back: the versions it still lists and each one's deprecation message."""

    versions: frozenset[str]
    deprecated: dict[str, str | None]  # version -> message ("" in npm clears it: None here)


def read_document(body: bytes, name: str) -> dict[str, Any]:
    doc = read_json(body, limit=document_limit(), where="the npm document")
    if not isinstance(doc, dict):
        raise InvalidInput("the npm document is not a JSON object")
    if doc.get("name", name) != name or doc.get("_id", name) != name:
        raise InvalidInput(f"the document names {clip(str(doc.get('name')))!r}, the URL names {name!r}")
    return doc


def is_publication(doc: dict[str, Any]) -> bool:
    return bool(doc.get("_attachments"))


def publication(doc: dict[str, Any], name: str) -> Publication:
    versions = _object(doc, "versions")
    if len(versions) != 1:
        raise InvalidInput(f"a publish carries exactly one version, this one {len(versions)}")
    ((version, manifest),) = versions.items()
    version = shown(npm_version(version))
    attachments = _object(doc, "_attachments")
    expected = f"{name}-{version}.tgz"
    if set(attachments) != {expected}:
        listed = ", ".join(sorted(clip(str(k)) for k in attachments))
        raise InvalidInput(f"a publish carries one attachment, {expected}; this one carries {listed}")
    attachment = attachments[expected]
    data = attachment.get("data") if isinstance(attachment, dict) else None
    if not isinstance(data, str):
        raise InvalidInput(f"the attachment {expected} has no base64 data")
    tags = _object(doc, "dist-tags")
    for tag, target in tags.items():
        if target != version:
            raise InvalidInput(
                f"dist-tag {clip(tag)!r} points at {clip(str(target))!r}, not at {version}, the version published"
            )
    dist = manifest.get("dist") if isinstance(manifest, dict) else None
    return Publication(name, version, data, tuple(tags), dist if isinstance(dist, dict) else {})


def check_package(pub: Publication, package: dict[str, Any]) -> None:
    """The tarball's own package.json names the package and version published."""
    if package.get("name") != pub.name:
        raise InvalidInput(f"package.json in the tarball names {clip(str(package.get('name')))!r}, not {pub.name!r}")
    inside = package.get("version")
    if not isinstance(inside, str) or shown(npm_version(inside)) != pub.version:
        raise InvalidInput(f"package.json in the tarball has version {clip(str(inside))!r}, not {pub.version}")


def check_digests(pub: Publication, tarball: FileEntry) -> None:
    """The digests the client computed (if it sent any) are those of the bytes that arrived."""
    for field, actual in (("integrity", integrity(tarball)), ("shasum", shasum(tarball))):
        claimed = pub.claimed.get(field)
        if claimed is not None and claimed != actual:
            raise InvalidInput(
                f"dist.{field} {clip(str(claimed))!r} is not that of the tarball received ({actual}): "
                "the upload was altered or truncated"
            )


def changes(doc: dict[str, Any]) -> Changes:
    versions = _object(doc, "versions")
    deprecated: dict[str, str | None] = {}
    for text, manifest in versions.items():
        version = shown(npm_version(text))
        if isinstance(manifest, dict) and "deprecated" in manifest:
            message = manifest["deprecated"]
            if not isinstance(message, str):
                raise InvalidInput(f"versions.{clip(text)}.deprecated is not a string")
            deprecated[version] = message or None
    return Changes(frozenset(shown(npm_version(v)) for v in versions), deprecated)


def _object(doc: dict[str, Any], field: str) -> dict[str, Any]:
    value = doc.get(field, {})
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} is not a JSON object")
    return value
