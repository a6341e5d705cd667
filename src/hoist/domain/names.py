"""Names users choose: packages, files inside an artifact, registries and environments.

Package names follow the OCI repository grammar (distribution-spec, "Pulling manifests"), so that
every package is reachable as ``/v2/<registry>/<package>`` without any translation. That grammar
already excludes ``..``, absolute paths and empty path components; the checks below exist to give
those cases a message that says what went wrong. Keys of native packages (``npm/@acme/ui``,
``pypi/shop-utils``, ``maven/org.acme:shop-core``) follow their format's rules instead
(``hoist.domain.packages``); the first components ``npm``, ``pypi`` and ``maven`` hold nothing else.
"""

from __future__ import annotations

import re

from hoist.domain.errors import InvalidName

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_PACKAGE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_REGISTRY = re.compile(r"[a-z][a-z0-9-]{0,62}")
MAX_PACKAGE_LENGTH = 200
MAX_FILE_NAME_LENGTH = 255
ECHO_LIMIT = 64
NOTE_CHARS = 2000  # the longest reason or comment a person may give an action (API and web UI alike)


def clip(value: str, limit: int = ECHO_LIMIT) -> str:
    """A user-supplied value as an error quotes it: whole when short, else its first ``limit``
    characters, an ellipsis and its length (a 5,000-character name must not come back whole)."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value)} characters)"


def validate_package_name(name: str) -> str:
    """An OCI or generic package name, or the key of a native package (checked with its format's rules)."""
    if not name:
        raise InvalidName("the package name is empty")
    # imported here because packages builds on this module's names and versions
    from hoist.domain.packages import package_key, publishing_client, split_key

    fmt, native = split_key(name)
    if fmt is not None:
        try:
            key = package_key(fmt, native)
        except InvalidName as e:
            raise InvalidName(
                f"{clip(name)!r}: names under {fmt}/ are reserved for the {fmt} view (publish with "
                f"{publishing_client(fmt)}), and {e.message}",
                name=clip(name),
            ) from None
        if key != name:
            raise InvalidName(f"{clip(name)!r} is spelled {key!r} in Hoist: use that name", name=clip(name))
        return name
    if name.startswith("/"):
        raise InvalidName(f"package name {clip(name)!r} is an absolute path: use a relative name like shop/api")
    parts = name.split("/")
    if any(p in {"..", "."} for p in parts):
        raise InvalidName(f"package name {clip(name)!r} contains a '.' or '..' path component", name=clip(name))
    if "\\" in name or "\x00" in name:
        raise InvalidName(f"package name {clip(name)!r} contains a backslash or NUL", name=clip(name))
    if len(name) > MAX_PACKAGE_LENGTH:
        raise InvalidName(f"package name {clip(name)!r} is longer than {MAX_PACKAGE_LENGTH} characters", name=clip(name))
    if not _PACKAGE.fullmatch(name):
        raise InvalidName(
            f"{clip(name)!r} is not a valid package name: use lowercase letters, digits and '.', '_', '-' "
            "between them, with '/' between path components (e.g. shop-api or shop/api)",
            name=clip(name),
        )
    return name


def validate_plain_package_name(name: str) -> str:
    """A name an OCI push or a generic publish may use: not under a native format's prefix."""
    from hoist.domain.packages import publishing_client, split_key

    fmt, _ = split_key(validate_package_name(name))
    if fmt is not None:
        raise InvalidName(
            f"{clip(name)!r} is reserved for the {fmt} view: publish with {publishing_client(fmt)}", name=clip(name)
        )
    return name


def validate_file_name(name: str) -> str:
    """A file inside an artifact: one plain path component, safe to write into any folder."""
    if not name or name in {".", ".."}:
        raise InvalidName(f"file name {clip(name)!r} is not a file name", name=clip(name))
    if "/" in name or "\\" in name:
        raise InvalidName(
            f"file name {clip(name)!r} contains a path separator: artifacts hold plain file names", name=clip(name)
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidName(f"file name {clip(name)!r} contains a control character", name=clip(name))
    if len(name.encode()) > MAX_FILE_NAME_LENGTH:
        raise InvalidName(f"file name {clip(name)!r} is longer than {MAX_FILE_NAME_LENGTH} bytes", name=clip(name))
    return name


def validate_registry_name(name: str, what: str = "registry") -> str:
    if not _REGISTRY.fullmatch(name):
        raise InvalidName(
            f"{what} name {clip(name)!r} is invalid: use a lowercase letter then letters, digits or '-'",
            name=clip(name),
        )
    return name
