"""Container images: the packages in the filesystem the layers make, read as the layers stream by.

Each layer is read once, front to back; only small metadata files (and Java archives, through a
spool) are read. Whiteouts are honoured: ``.wh.<name>`` deletes ``<name>`` from the layers below,
``.wh..wh..opq`` empties its folder of what the layers below put there, and a file that replaces
an earlier one (or a folder) in a later layer replaces its evidence too."""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

from hoist.domain.errors import InvalidInput
from hoist.sbom.archives import NESTED_LIMIT, Scan, read_small, scan_archive, spooled
from hoist.sbom.catalog import Evidence, classify, normalise, parse
from hoist.sbom.osrelease import Distro, parse_os_release
from hoist.sbom.packages import Package
from hoist.sbom.streams import STREAM_ERRORS, open_tar

Layer = tuple[str, Callable[[], IO[bytes]]]

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True, slots=True)
class _Found:
    """What one evidence file says."""

    packages: tuple[Package, ...] = ()
    distro: Distro | None = None


@dataclass
class _LayerChanges:
    """What one layer does to the layers below it."""

    deleted: set[str] = field(default_factory=set)  # whiteouts, and folders replaced by a file
    opaque: set[str] = field(default_factory=set)
    replaced: set[str] = field(default_factory=set)
    found: dict[str, _Found] = field(default_factory=dict)

    def hides(self, path: str) -> bool:
        if path in self.replaced:
            return True
        ancestors = _ancestors(path)
        return any(a in self.deleted for a in (*ancestors, path)) or any(a in self.opaque for a in ancestors)


def scan_layers(layers: Sequence[Layer]) -> tuple[list[Package], Distro | None]:
    """The packages of the image's final filesystem, and its distribution (from os-release)."""
    visible: dict[str, _Found] = {}
    for index, (media_type, opener) in enumerate(layers):
        if "tar" not in media_type:
            continue  # not a filesystem layer (an artifact's blob, a config)
        label = f"layer {index} ({media_type})"
        changes = _read_layer(media_type, opener, label, visible)
        visible = {path: found for path, found in visible.items() if not changes.hides(path)}
        visible.update(changes.found)
    distro_found = visible.get("etc/os-release") or visible.get("usr/lib/os-release")
    packages = [p for found in visible.values() for p in found.packages]
    return packages, distro_found.distro if distro_found else None


def _read_layer(media_type: str, opener: Callable[[], IO[bytes]], label: str, below: dict[str, _Found]) -> _LayerChanges:
    changes = _LayerChanges()
    folders_below = {a for path in below for a in _ancestors(path)}
    try:
        with opener() as source, open_tar(source, media_type=media_type) as tar:
            for info in tar:
                _apply(tar, info, changes, below, folders_below)
    except STREAM_ERRORS as exc:
        raise InvalidInput(f"{label} is not a readable tar archive: {exc}") from exc
    return changes


def _apply(
    tar: tarfile.TarFile,
    info: tarfile.TarInfo,
    changes: _LayerChanges,
    below: dict[str, _Found],
    folders_below: set[str],
) -> None:
    path = normalise(info.name)
    parent, _, base = path.rpartition("/")
    if base == OPAQUE:
        changes.opaque.add(parent)
        return
    if base.startswith(WHITEOUT):
        changes.deleted.add(f"{parent}/{base[len(WHITEOUT) :]}" if parent else base[len(WHITEOUT) :])
        return
    if info.isdir():
        return
    if path in below:
        changes.replaced.add(path)
    if path in folders_below:
        changes.deleted.add(path)  # a file or link where a folder was: the folder is gone
    changes.found.pop(path, None)  # a later entry of the same layer wins
    evidence = classify(path, image=True) if info.isreg() else None
    member = tar.extractfile(info) if evidence is not None else None
    if evidence is None or member is None:
        return
    with member:
        found = _read(evidence, path, member, info.size)
    if found is not None:
        changes.found[path] = found


def _read(evidence: Evidence, path: str, member: IO[bytes], size: int) -> _Found | None:
    if evidence is Evidence.ARCHIVE:
        if size > NESTED_LIMIT:
            return None
        with spooled(member) as archive:
            scan = scan_archive(archive, depth=1, scan=Scan())
        return _Found(tuple(scan.packages))
    data = read_small(member, size)
    if data is None:
        return None
    if evidence is Evidence.OS_RELEASE:
        distro = parse_os_release(data)
        return _Found(distro=distro) if distro else None
    return _Found(tuple(parse(evidence, data, path)))


def _ancestors(path: str) -> list[str]:
    """``a/b/c`` -> ``["", "a", "a/b"]`` ("" is the root, which an opaque whiteout at the top names)."""
    parts = path.split("/")
    return ["", *("/".join(parts[:i]) for i in range(1, len(parts)))]
