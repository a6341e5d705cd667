"""npm names and versions as the npm view reads them, mapped to the storage key and version scheme
of ``hoist.domain.packages``, and the tarball file names npm downloads."""

from __future__ import annotations

from hoist.domain.errors import InvalidName, InvalidVersion
from hoist.domain.names import clip
from hoist.domain.packages import PackageFormat, package_key, scheme_for, split_key
from hoist.domain.versions import SemVer, Version, parse_version


def storage_key(name: str) -> str:
    """``npm/<name>``, the name checked with npm's rules."""
    return package_key(PackageFormat.NPM, name)


def npm_name(key: str) -> str:
    fmt, native = split_key(key)
    if fmt is not PackageFormat.NPM:
        raise InvalidName(f"{clip(key)!r} is not an npm package key", name=clip(key))
    return native


def npm_version(text: str) -> Version:
    """A version as npm spells it: SemVer 2.0 (Hoist's four-part spelling is not npm's)."""
    version = parse_version(scheme_for(PackageFormat.NPM), text)
    if isinstance(version, SemVer) and version.four_part:
        raise InvalidVersion(f"{clip(text)!r} is not a SemVer version, as npm requires (e.g. 1.4.0)", version=clip(text))
    return version


def shown(version: Version) -> str:
    """The version npm sees: SemVer without Hoist's build, which npm ignores (one build per version)."""
    return version.base.canonical


def tarball_name(name: str, version: str) -> str:
    """``<base>-<version>.tgz``, the file npm downloads (the name without its scope, as npm does)."""
    return f"{name.rpartition('/')[2]}-{version}.tgz"


def version_of_tarball(name: str, file_name: str) -> str:
    """The version a tarball file name of ``name`` names; InvalidName when it is not one of its tarballs."""
    prefix = name.rpartition("/")[2] + "-"
    if not (file_name.startswith(prefix) and file_name.endswith(".tgz")):
        raise InvalidName(f"{clip(file_name)!r} is not a tarball of {name} (expected {prefix}<version>.tgz)")
    return shown(npm_version(file_name[len(prefix) : -len(".tgz")]))
