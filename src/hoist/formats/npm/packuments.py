"""Packuments as npm reads them (full, and abbreviated for ``application/vnd.npm.install-v1+json``),
rendered from what a registry holds: one build per version, dist-tags that only name held
versions, and ``dist`` computed from the stored tarball, so it is the same in every registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hoist.domain.models import FileEntry
from hoist.domain.versions import Channel, Version
from hoist.formats.npm.names import shown
from hoist.formats.npm.tarballs import integrity, shasum

ABBREVIATED = "application/vnd.npm.install-v1+json"
LATEST = "latest"
# What npm's installer reads from a version (the registry's "corgi" document); the brief's list
# plus os/cpu/peerDependenciesMeta/bundleDependencies, without which optional and platform-specific
# dependencies would resolve differently than from the full packument.
_ABBREVIATED_FIELDS = (
    "name",
    "version",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "bin",
    "engines",
    "os",
    "cpu",
    "deprecated",
    "hasInstallScript",
    "dist",
)
_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")


@dataclass(frozen=True, slots=True)
class Release:
    """One stored build of a version, as the registry holds it."""

    version: Version
    manifest: Mapping[str, Any]  # the package.json read from the tarball at publish
    tarball: FileEntry
    published: datetime
    sealed: bool = False
    deprecated: str | None = None

    @property
    def shown(self) -> str:
        return shown(self.version)


def one_per_version(releases: Iterable[Release]) -> list[Release]:
    """npm ignores SemVer builds, so each version shows one build: the one sealed in this registry
    if any, else the highest build. Ordered by version."""
    chosen: dict[str, Release] = {}
    for r in releases:
        held = chosen.get(r.shown)
        if held is None or (r.sealed, r.version) > (held.sealed, held.version):
            chosen[r.shown] = r
    return sorted(chosen.values(), key=lambda r: r.version.sort_key)


def dist_tags(releases: list[Release], tags: Mapping[str, str]) -> dict[str, str]:
    """The tags set in this registry that name a version it holds, and ``latest``: the tag set in
    this registry if it still names a held version, else the highest release it holds (else the
    highest version, so that ``npm install <name>`` works on a package of pre-releases only)."""
    held = {r.shown for r in releases}
    result = {tag: v for tag, v in sorted(tags.items()) if v in held}
    if LATEST not in result and releases:
        released = [r for r in releases if r.version.channel is Channel.RELEASE]
        result[LATEST] = max(released or releases, key=lambda r: r.version.sort_key).shown
    return result


def version_document(name: str, release: Release, tarball_url: str) -> dict[str, Any]:
    doc = {k: v for k, v in release.manifest.items() if k != "deprecated"}
    doc.update(
        name=name,
        version=release.shown,
        _id=f"{name}@{release.shown}",
        dist={"tarball": tarball_url, "integrity": integrity(release.tarball), "shasum": shasum(release.tarball)},
    )
    scripts = release.manifest.get("scripts")
    if isinstance(scripts, dict) and any(s in scripts for s in _INSTALL_SCRIPTS):
        doc["hasInstallScript"] = True
    if release.deprecated:
        doc["deprecated"] = release.deprecated
    return doc


def full(name: str, releases: list[Release], tags: Mapping[str, str], tarball_url: Callable[[str], str]) -> dict[str, Any]:
    versions = {r.shown: version_document(name, r, tarball_url(r.shown)) for r in releases}
    times = {r.shown: _iso(r.published) for r in releases}
    return {
        "_id": name,
        "_rev": revision(releases, tags),
        "name": name,
        "dist-tags": dist_tags(releases, tags),
        "versions": versions,
        "time": {"created": min(times.values(), default=None), "modified": _modified(releases), **times},
    }


def abbreviated(
    name: str, releases: list[Release], tags: Mapping[str, str], tarball_url: Callable[[str], str]
) -> dict[str, Any]:
    versions = {}
    for r in releases:
        doc = version_document(name, r, tarball_url(r.shown))
        versions[r.shown] = {k: doc[k] for k in _ABBREVIATED_FIELDS if k in doc}
    return {"name": name, "modified": _modified(releases), "dist-tags": dist_tags(releases, tags), "versions": versions}


def revision(releases: list[Release], tags: Mapping[str, str]) -> str:
    """A CouchDB-style ``_rev`` that changes when the view changes (npm sends it back on writes)."""
    state = [(r.shown, str(r.tarball.digest), r.deprecated) for r in releases], sorted(tags.items())
    return f"{len(releases)}-{hashlib.sha256(json.dumps(state).encode()).hexdigest()[:32]}"


def _modified(releases: list[Release]) -> str | None:
    return _iso(max(r.published for r in releases)) if releases else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
