"""npm package names and versions, the storage key Hoist keeps them under, and tarball file names.

npm's rules for new packages (validate-npm-package-name): at most 214 characters, lowercase,
URL-safe, not starting with ``.`` or ``_``; a scope is ``@scope/`` with the same rules.
"""

from __future__ import annotations

import re

from hoist.domain.errors import InvalidName, InvalidVersion
from hoist.domain.names import clip
from hoist.domain.versions import Version

MAX_NAME_LENGTH = 214
_PART = r"[a-z0-9-][a-z0-9._-]*"
_NAME = re.compile(rf"(?:@(?P<scope>{_PART})/)?(?P<base>{_PART})")
_RESERVED = frozenset({"node_modules", "favicon.ico"})
KEY_PREFIX = "npm/"


def validate_npm_name(name: str) -> str:
    if not name:
        raise InvalidName("the npm package name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"npm package name {clip(name)!r} is longer than {MAX_NAME_LENGTH} characters", name=clip(name))
    m = _NAME.fullmatch(name)
    if not m or m["base"] in _RESERVED:
        raise InvalidName(
            f"{clip(name)!r} is not an npm package name: use lowercase letters, digits, '-', '.' and '_' "
            "(not first), optionally under a scope (@scope/name)",
            name=clip(name),
        )
    return name


def storage_key(name: str) -> str:
    """The package key of an npm name: ``npm/<name>`` (design: one namespace, format-qualified)."""
    return KEY_PREFIX + validate_npm_name(name)


def npm_name(key: str) -> str:
    """The npm name of a storage key made by :func:`storage_key`."""
    if not key.startswith(KEY_PREFIX):
        raise InvalidName(f"{clip(key)!r} is not an npm package key", name=clip(key))
    return key.removeprefix(KEY_PREFIX)


def npm_version(text: str) -> Version:
    """A version as npm spells it: SemVer 2.0 (npm's rules; Hoist's four-part spelling is not npm's)."""
    version = Version.parse(text)
    if version.four_part:
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
    text = file_name[len(prefix) : -len(".tgz")]
    return shown(npm_version(text))
