"""Python packages: core metadata (``*.dist-info/METADATA``, ``PKG-INFO``), an RFC 822 header block."""

from __future__ import annotations

from hoist.sbom.packages import Package, pep503, valid


def parse_core_metadata(data: bytes) -> Package | None:
    """``pkg:pypi/<pep503 name>@<version>`` from the ``Name`` and ``Version`` headers, if both are there."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            break  # the headers end at the first blank line; the description follows
        key, sep, value = line.partition(":")
        if sep and not line[0].isspace():
            fields.setdefault(key.strip().lower(), value.strip())
        if "name" in fields and "version" in fields:
            break
    name, version = fields.get("name"), fields.get("version")
    if not name or not version:
        return None
    package = Package("pypi", pep503(name), version)
    return package if valid(package) else None
