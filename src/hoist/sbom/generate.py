"""SBOMs Hoist generates at push time: for an artifact's files and for a container image."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from packageurl import PackageURL

from hoist.domain.errors import InvalidInput
from hoist.domain.packages import PackageFormat, split_key
from hoist.domain.sbom import SbomDocument
from hoist.sbom.archives import Scan, scan_archive
from hoist.sbom.bom import Subject, build
from hoist.sbom.image import scan_layers
from hoist.sbom.osrelease import apply_distro

_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$")


def generate_for_file(path: Path, *, filename: str, name: str, version: str, now: datetime) -> SbomDocument:
    """CycloneDX 1.6 for an artifact file: a wheel, sdist, npm tarball, jar/war/ear, or a plain tar,
    tar.gz or zip holding any of those (nested archives are opened down to a bounded depth). The kind
    is told from the content; content without known package metadata gives an SBOM that describes
    the artifact alone."""
    return generate_for_files([(path, filename)], name=name, version=version, now=now)


def generate_for_files(files: Sequence[tuple[Path, str]], *, name: str, version: str, now: datetime) -> SbomDocument:
    """One SBOM for an artifact made of several files, given as ``(path, file name)`` pairs: the
    packages of all of them; the subject's digest is the file's sha256 for a single file, else the
    sha256 of the sorted ``<file name> <sha256>`` lines."""
    scan = Scan()
    digests = []
    for path, filename in files:
        with path.open("rb") as source:
            scan_archive(source, scan=scan)
        digests.append((filename, _sha256(path)))
    if len(digests) == 1:
        digest = "sha256:" + digests[0][1]
    else:
        listing = "".join(f"{filename} {hexdigest}\n" for filename, hexdigest in sorted(digests))
        digest = "sha256:" + hashlib.sha256(listing.encode()).hexdigest()
    own = {p.purl().to_string(): p for p in scan.own}
    purl = next(iter(own.values())).purl() if len(own) == 1 else _named(name, version)
    subject = Subject(name=name, version=version, digest=digest, container=False, purl=purl)
    return build(subject, apply_distro(scan.packages, scan.distro), now=now)


def generate_for_image(
    layers: Sequence[tuple[str, Callable[[], BinaryIO]]], *, name: str, version: str, digest: str, now: datetime
) -> SbomDocument:
    """CycloneDX 1.6 for a container image, from its layers in order as ``(media type, opener)``.
    Each layer is streamed once; dpkg and apk databases, Python and npm packages and Java archives
    are read from the final filesystem (whiteouts applied). ``digest`` is the manifest digest."""
    if not _DIGEST.match(digest):
        raise InvalidInput(f"image digest {digest!r} is not sha256:<hex>, sha384:<hex> or sha512:<hex>")
    packages, distro = scan_layers(layers)
    repository = name.rsplit("/", 1)[-1].lower()
    subject = Subject(
        name=name, version=version, digest=digest, container=True, purl=PackageURL("oci", None, repository, digest)
    )
    return build(subject, apply_distro(packages, distro), now=now)


def _named(name: str, version: str) -> PackageURL:
    """The purl a package key gives when its files do not say (a jar without pom.properties):
    ``maven/<g>:<a>`` is ``pkg:maven/<g>/<a>``, ``npm/@s/n`` ``pkg:npm/%40s/n``, ``pypi/n`` ``pkg:pypi/n``."""
    fmt, native = split_key(name)
    if fmt is PackageFormat.MAVEN:
        group, _, artifact = native.partition(":")
        return PackageURL("maven", group, artifact, version)
    if fmt in {PackageFormat.NPM, PackageFormat.PYPI}:
        scope, _, bare = native.rpartition("/")
        return PackageURL(str(fmt), scope or None, bare, version)
    return PackageURL("generic", None, name, version)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
