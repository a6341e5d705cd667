"""Project names and versions as Hoist stores them: ``pypi/<PEP 503 name>`` at a PEP 440 version
(the rules are the domain's; this module adds what the wire needs: PyPA's reading of versions for
comparing a file's name, its metadata and the upload form)."""

from __future__ import annotations

from packaging.version import InvalidVersion as _PackagingInvalidVersion
from packaging.version import Version

from hoist.domain.errors import InvalidVersion
from hoist.domain.packages import PackageFormat, package_key, split_key
from hoist.domain.pep440 import Pep440


def storage_key(name: str) -> str:
    """The package key Hoist keeps a project under; InvalidName if ``name`` is not a project name."""
    return package_key(PackageFormat.PYPI, name)


def normalise(name: str) -> str:
    """PEP 503's normalised form (``Zope.Interface`` → ``zope-interface``)."""
    return split_key(storage_key(name))[1]


def project_of(key: str) -> str | None:
    """The normalised project name of a ``pypi/`` key, or None for any other key."""
    fmt, native = split_key(key)
    return native if fmt is PackageFormat.PYPI else None


def pep440(text: str) -> Version:
    """A PEP 440 version; local versions (``+local``) are refused: an index serves public versions only."""
    try:
        version = Version(text)
    except _PackagingInvalidVersion:
        raise InvalidVersion(f"{text[:100]!r} is not a PEP 440 version") from None
    if version.local is not None:
        raise InvalidVersion(f"{text!r} has a local version label ('+{version.local}'), which an index cannot serve")
    return version


def hoist_version(version: Version, build: int | None) -> Pep440:
    """The Hoist version of a file: its PEP 440 version, with a wheel's build tag as Hoist's build
    (the design's Major.Minor.Patch.Build: ``1.4.0`` tagged ``57`` is ``1.4.0.57``)."""
    parsed = Pep440.parse(str(version))
    return parsed if build is None else parsed.with_build(build)
