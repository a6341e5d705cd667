"""What the plain HTTP view reads from a URL and writes back, with no I/O: the address of a file
(``/generic/<registry>/<package>/<version>/<file>``) and a version's file listing.

A package may have ``/`` in its name (``shop/api``), a version and a file never do, so the address
is read from its end: the last component is the file, the one before it the version, the first the
registry, and what lies between is the package.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from hoist.domain.errors import InvalidInput
from hoist.domain.models import FileEntry
from hoist.domain.names import clip, validate_file_name, validate_plain_package_name, validate_registry_name

PREFIX = "/generic"
USAGE = "use /generic/<registry>/<package>/<version>/<file>"


@dataclass(frozen=True, slots=True)
class Address:
    """A file of a version (``file`` set) or the version itself (``file`` None: its listing)."""

    registry: str
    package: str
    version: str
    file: str | None

    @property
    def version_url(self) -> str:
        return f"{PREFIX}/{self.registry}/{self.package}/{self.version}/"


def parse_address(path: str) -> Address:
    """The address in a request path (already percent-decoded); InvalidInput/InvalidName saying
    what is wrong with it."""
    rest = path.removeprefix(PREFIX + "/") if path.startswith(PREFIX + "/") else None
    if rest is None:
        raise InvalidInput(f"{clip(path)!r} is not under {PREFIX}/: {USAGE}")
    parts = rest.split("/")
    if len(parts) < 4 or not all(parts[:-1]):
        raise InvalidInput(f"{clip(path)!r} is not a file address: {USAGE}")
    registry, *package, version, file = parts
    validate_registry_name(registry)
    name = validate_plain_package_name("/".join(package))  # npm/, pypi/, maven/ belong to their own views
    if not version.strip():
        raise InvalidInput(f"{clip(path)!r} names no version: {USAGE}")
    return Address(registry, name, version, validate_file_name(file) if file else None)


def wants_text(accept: str | None) -> bool:
    """A listing as plain text only when the client asks for text/plain over JSON."""
    if not accept:
        return False
    ranked: list[tuple[float, int, str]] = []
    for i, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media in {"text/plain", "application/json"}:
            ranked.append((-q, i, media))
    return bool(ranked) and min(ranked)[2] == "text/plain" and -min(ranked)[0] > 0


def listing_json(address: Address, version: str, files: Sequence[FileEntry], *, sealed: bool) -> bytes:
    """A version's files: each with its size, digest and URL, in name order."""
    doc = {
        "registry": address.registry,
        "package": address.package,
        "version": version,
        "sealed": sealed,
        "files": [
            {
                "name": f.name,
                "size": f.size,
                "digest": str(f.digest),
                "media_type": f.media_type,
                "url": address.version_url + f.name,
            }
            for f in sorted(files, key=lambda f: f.name)
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def listing_text(files: Sequence[FileEntry]) -> bytes:
    """One file name a line, as ``xargs -I{} curl -O …/{}`` reads them."""
    return "".join(f"{f.name}\n" for f in sorted(files, key=lambda f: f.name)).encode()
