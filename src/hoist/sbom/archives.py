"""Walking an artifact file: zip (wheel, jar, war, ear, zip) or tar (sdist, npm tarball, tar, tar.gz),
and the archives nested in it, down to a bounded depth. Nested archives are read from memory when
small and from a temporary spool file otherwise; metadata files are read only when small."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from hoist.sbom.catalog import METADATA_LIMIT, Evidence, classify, is_root_identity, normalise, parse
from hoist.sbom.osrelease import Distro, parse_os_release
from hoist.sbom.packages import Package
from hoist.sbom.streams import STREAM_ERRORS, ZIP_MAGICS, open_tar

MAX_DEPTH = 4  # the artifact is depth 0; a jar in a war in a tar.gz is depth 2
NESTED_LIMIT = 2 * 1024**3  # a nested archive larger than this (uncompressed) is not opened
SPOOL_IN_MEMORY = 16 * 1024 * 1024  # nested archives up to this size stay in memory


@dataclass
class Scan:
    """What a walk found: every package, the artifact's own identity candidates, the distribution."""

    packages: list[Package] = field(default_factory=list)
    own: list[Package] = field(default_factory=list)
    os_release: dict[str, Distro] = field(default_factory=dict)

    @property
    def distro(self) -> Distro | None:
        return self.os_release.get("etc/os-release") or self.os_release.get("usr/lib/os-release")


def scan_archive(source: IO[bytes], *, depth: int = 0, scan: Scan | None = None) -> Scan:
    """Walk ``source`` (seekable) if it is a zip or tar archive; anything else yields an empty scan.
    A damaged archive yields what was found before the damage."""
    scan = scan if scan is not None else Scan()
    head = source.read(4)
    source.seek(0)
    try:
        if head in ZIP_MAGICS:
            with zipfile.ZipFile(source) as archive:
                _walk_zip(archive, depth, scan)
        else:
            with open_tar(source) as archive:
                _walk_tar(archive, depth, scan)
    except (*STREAM_ERRORS, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError):
        return scan  # not an archive, or a damaged one (or a zip method Python lacks): keep what was found
    return scan


def _walk_zip(archive: zipfile.ZipFile, depth: int, scan: Scan) -> None:
    for info in archive.infolist():
        if info.is_dir() or info.flag_bits & 0x1:
            continue  # folders, and encrypted members (which cannot be read)
        path = normalise(info.filename)
        evidence = classify(path, image=False)
        if evidence is None:
            continue
        with archive.open(info) as member:
            _visit(evidence, path, member, info.file_size, depth, scan)


def _walk_tar(archive: tarfile.TarFile, depth: int, scan: Scan) -> None:
    for info in archive:
        if not info.isreg():
            continue
        path = normalise(info.name)
        evidence = classify(path, image=False)
        member = archive.extractfile(info) if evidence is not None else None
        if evidence is not None and member is not None:
            with member:
                _visit(evidence, path, member, info.size, depth, scan)


def _visit(evidence: Evidence, path: str, member: IO[bytes], size: int, depth: int, scan: Scan) -> None:
    if evidence is Evidence.ARCHIVE:
        if depth + 1 <= MAX_DEPTH and size <= NESTED_LIMIT:
            with spooled(member) as nested:
                scan_archive(nested, depth=depth + 1, scan=scan)
        return
    data = read_small(member, size)
    if data is None:
        return
    if evidence is Evidence.OS_RELEASE:
        distro = parse_os_release(data)
        if distro and depth == 0:
            scan.os_release[path] = distro
        return
    found = parse(evidence, data, path)
    scan.packages.extend(found)
    if depth == 0 and is_root_identity(evidence, path):
        scan.own.extend(found)


def read_small(member: IO[bytes], size: int) -> bytes | None:
    """The member's bytes when it is no larger than METADATA_LIMIT (checked on what is read, not only
    on the declared size)."""
    if size > METADATA_LIMIT:
        return None
    data = member.read(size + 1)  # not METADATA_LIMIT + 1: a buffered reader allocates what is asked for up front
    if len(data) > size:  # the member is larger than it declared (a damaged or hostile zip): read on, bounded
        data += member.read(METADATA_LIMIT + 1 - len(data))
    return data if len(data) <= METADATA_LIMIT else None


@contextmanager
def spooled(member: IO[bytes]) -> Iterator[IO[bytes]]:
    """A seekable copy of a member: in memory up to SPOOL_IN_MEMORY, on disk beyond."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        shutil.copyfileobj(member, spool, 1024 * 1024)
        spool.seek(0)
        yield spool
