"""Package formats and the storage keys of native packages.

OCI and generic packages are stored under their own names (``shop/api``). Native packages are
stored under a key that starts with their format, so an npm ``shop-utils`` and a PyPI
``shop-utils`` never collide and the CLI and API name them alike everywhere:

- npm: ``npm/<name>`` (``npm/left-pad``, ``npm/@acme/ui``)
- PyPI: ``pypi/<PEP 503 normalised name>`` (``pypi/zope-interface`` for ``zope.interface``)
- Maven: ``maven/<groupId>:<artifactId>`` (``maven/org.acme:shop-core``)

Each native name is checked with its ecosystem's own rules before it becomes part of a key, so a
key never holds a path component a folder or URL could misread (``..``, ``\\``, ``%``).
"""

from __future__ import annotations

import re
from enum import StrEnum

from hoist.domain.errors import InvalidName
from hoist.domain.names import clip, validate_package_name
from hoist.domain.versions import Scheme, Version, parse_version

MAX_KEY_LENGTH = 255  # packages.name
MAX_NPM_NAME_LENGTH = 214  # validate-npm-package-name


class PackageFormat(StrEnum):
    OCI = "oci"
    GENERIC = "generic"
    NPM = "npm"
    PYPI = "pypi"
    MAVEN = "maven"


NATIVE_FORMATS = (PackageFormat.NPM, PackageFormat.PYPI, PackageFormat.MAVEN)
_SCHEMES = {PackageFormat.PYPI: Scheme.PEP440, PackageFormat.MAVEN: Scheme.MAVEN}
_CLIENT = {PackageFormat.NPM: "npm", PackageFormat.PYPI: "twine", PackageFormat.MAVEN: "mvn deploy"}

# validate-npm-package-name for new packages: lowercase, and nothing encodeURIComponent would
# escape, without npm's refused ~'!()*; so each part is [a-z0-9._-].
_NPM_PART = re.compile(r"[a-z0-9._-]+")
_NPM_REFUSED = frozenset({"node_modules", "favicon.ico"})
# PEP 508 names (case-insensitive), normalised per PEP 503
_PYPI_NAME = re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE)
_PYPI_RUN = re.compile(r"[-_.]+")
_MAVEN_ID = re.compile(r"[A-Za-z0-9_.-]+")


def scheme_for(fmt: PackageFormat | str) -> Scheme:
    """The version scheme of a format: PEP 440 for PyPI, Maven's for Maven, SemVer for the rest
    (OCI and generic as always, npm by npm's own rules)."""
    return _SCHEMES.get(PackageFormat(fmt), Scheme.SEMVER)


def package_key(fmt: PackageFormat | str, native: str) -> str:
    """The storage key of the native package ``native`` of format ``fmt``, its name checked with
    the format's rules (PyPI names normalised); OCI and generic names are their own keys."""
    fmt = PackageFormat(fmt)
    if fmt is PackageFormat.NPM:
        key = f"npm/{validate_npm_name(native)}"
    elif fmt is PackageFormat.PYPI:
        key = f"pypi/{normalise_pypi_name(native)}"
    elif fmt is PackageFormat.MAVEN:
        group, _, artifact = native.partition(":")
        key = f"maven/{validate_maven_id(group, 'groupId')}:{validate_maven_id(artifact, 'artifactId')}"
    else:
        return validate_package_name(native)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidName(
            f"{fmt} package {clip(native)!r} is too long: its key may have at most {MAX_KEY_LENGTH} characters",
            name=clip(native),
        )
    return key


def split_key(key: str) -> tuple[PackageFormat | None, str]:
    """``(format, native name)`` of a native package's key; ``(None, key)`` for OCI and generic
    names, whose format is the one they were pushed with."""
    first, sep, rest = key.partition("/")
    if sep and first in NATIVE_FORMATS:
        return PackageFormat(first), rest
    return None, key


def version_of(key: str, text: str) -> Version:
    """``text`` read as a version of the package ``key``, in that package's scheme."""
    fmt, _ = split_key(key)
    return parse_version(scheme_for(fmt or PackageFormat.GENERIC), text)


def maven_coordinates(key: str) -> tuple[str, str]:
    """``(groupId, artifactId)`` of a Maven package's key."""
    fmt, native = split_key(key)
    group, sep, artifact = native.partition(":")
    if fmt is not PackageFormat.MAVEN or not sep:
        raise InvalidName(f"{clip(key)!r} is not a Maven package: expected maven/<groupId>:<artifactId>", name=clip(key))
    return group, artifact


def publishing_client(fmt: PackageFormat) -> str:
    """The client that publishes packages of a native format, for messages that say what to use."""
    return _CLIENT.get(fmt, "hoist publish")


def validate_npm_name(name: str) -> str:
    if not name:
        raise InvalidName("the npm package name is empty")
    if len(name) > MAX_NPM_NAME_LENGTH:
        raise InvalidName(
            f"npm package name {clip(name)!r} is longer than {MAX_NPM_NAME_LENGTH} characters", name=clip(name)
        )
    if name != name.lower():
        raise InvalidName(f"npm package name {clip(name)!r} has capital letters: npm names are lowercase", name=clip(name))
    scope, sep, bare = name[1:].partition("/") if name.startswith("@") else ("", "", name)
    parts = [scope, bare] if sep else [bare]
    if name.startswith("@") and not sep:
        raise InvalidName(f"npm package name {clip(name)!r} has a scope but no name: use @scope/name", name=clip(name))
    for part in parts:
        if part.startswith((".", "_")):
            raise InvalidName(
                f"npm package name {clip(name)!r}: a name or scope may not start with '.' or '_'", name=clip(name)
            )
        if not _NPM_PART.fullmatch(part):
            raise InvalidName(
                f"npm package name {clip(name)!r} may hold only lowercase letters, digits, '-', '.' and '_' "
                "(with one '@scope/' in front): npm refuses the rest because they need escaping in URLs",
                name=clip(name),
            )
    if bare in _NPM_REFUSED:
        raise InvalidName(f"{clip(name)!r} is a name npm refuses", name=clip(name))
    return name


def normalise_pypi_name(name: str) -> str:
    """The PEP 503 form of a PEP 508 name: lowercase, every run of '-', '_', '.' one '-'."""
    if not _PYPI_NAME.fullmatch(name):
        raise InvalidName(
            f"{clip(name)!r} is not a valid Python package name: use letters, digits and '-', '_' or '.' "
            "between them (PEP 508), e.g. shop-utils",
            name=clip(name),
        )
    return _PYPI_RUN.sub("-", name).lower()


def validate_maven_id(value: str, what: str) -> str:
    if not value:
        raise InvalidName(f"the Maven {what} is empty: expected <groupId>:<artifactId>, e.g. org.acme:shop-core")
    if not _MAVEN_ID.fullmatch(value):
        raise InvalidName(f"Maven {what} {clip(value)!r} may hold only letters, digits, '_', '.' and '-'", name=clip(value))
    if what == "groupId" and "" in value.split("."):
        raise InvalidName(
            f"Maven groupId {clip(value)!r} has an empty part: use dotted names like org.acme", name=clip(value)
        )
    if value in {".", ".."}:
        raise InvalidName(f"Maven {what} {clip(value)!r} is not a name", name=clip(value))
    return value
