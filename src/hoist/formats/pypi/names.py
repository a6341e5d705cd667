"""Project names and versions as Hoist stores them: ``pypi/<PEP 503 name>`` at a PEP 440 version."""

from __future__ import annotations

import re

from packaging.utils import InvalidName as _PackagingInvalidName
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion as _PackagingInvalidVersion
from packaging.version import Version

from hoist.domain.errors import InvalidName, InvalidVersion

PREFIX = "pypi/"

# PEP 508's project name: ASCII letters, digits and ._- , starting and ending with a letter or digit
_NAME = re.compile(r"[A-Z0-9]([A-Z0-9._-]*[A-Z0-9])?", re.IGNORECASE)
_MAX_NAME = 200


def normalise(name: str) -> str:
    """PEP 503's normalised form (``Zope.Interface`` → ``zope-interface``); InvalidName if it is none."""
    if len(name) > _MAX_NAME or not _NAME.fullmatch(name):
        raise InvalidName(f"{name[:_MAX_NAME]!r} is not a Python project name (PEP 508: letters, digits, '.', '_', '-')")
    try:
        return str(canonicalize_name(name, validate=True))
    except _PackagingInvalidName:  # pragma: no cover - the pattern above is stricter
        raise InvalidName(f"{name!r} is not a Python project name") from None


def storage_key(name: str) -> str:
    """The package key Hoist keeps a project under (the design's ``package_key(pypi, name)``)."""
    return PREFIX + normalise(name)


def project_of(key: str) -> str | None:
    """The normalised project name of a ``pypi/`` key, or None for any other key."""
    return key.removeprefix(PREFIX) if key.startswith(PREFIX) else None


def pep440(text: str) -> Version:
    """A PEP 440 version; local versions (``+local``) are refused: an index serves public versions only."""
    try:
        version = Version(text)
    except _PackagingInvalidVersion:
        raise InvalidVersion(f"{text[:100]!r} is not a PEP 440 version") from None
    if version.local is not None:
        raise InvalidVersion(f"{text!r} has a local version label ('+{version.local}'), which an index cannot serve")
    return version


def with_build(version: Version, build: int) -> str:
    """``version`` carrying Hoist's build as its fourth release number (the design's
    Major.Minor.Patch.Build): only a plain three-number release has room for one."""
    if len(version.release) != 3 or version.epoch or version.pre or version.post is not None or version.dev is not None:
        raise InvalidVersion(f"a build tag needs a plain X.Y.Z version to become Hoist's build, not {version}")
    return f"{version}.{build}"
