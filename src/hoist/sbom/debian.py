"""dpkg's database: ``/var/lib/dpkg/status`` (and distroless ``status.d/*``), RFC 822 paragraphs."""

from __future__ import annotations

from collections.abc import Iterator

from hoist.sbom.packages import Package, valid

# dpkg's package states in which the package's files are not on disk
_ABSENT = frozenset({"not-installed", "config-files"})


def parse_status(data: bytes, *, require_status: bool = True) -> list[Package]:
    """``pkg:deb/<name>@<version>?arch=<arch>[&upstream=<source>[@<version>]]``, namespace added later.

    Distroless ``status.d`` files carry no ``Status`` field: pass ``require_status=False``."""
    found = []
    for fields in _paragraphs(data.decode("utf-8", errors="replace")):
        name, version = fields.get("package"), fields.get("version")
        status = fields.get("status", "").split()  # "install ok installed": want, flag, state
        if not name or not version or (status[-1:] and status[-1] in _ABSENT) or (not status and require_status):
            continue
        qualifiers = {}
        if fields.get("architecture"):
            qualifiers["arch"] = fields["architecture"]
        upstream = _upstream(fields.get("source"), name, version)
        if upstream:
            qualifiers["upstream"] = upstream
        package = Package("deb", name, version, qualifiers=tuple(sorted(qualifiers.items())))
        if valid(package):
            found.append(package)
    return found


def _upstream(source: str | None, name: str, version: str) -> str | None:
    """``Source: glibc`` -> ``glibc``; ``Source: gcc-12 (12.2.0-14)`` -> ``gcc-12@12.2.0-14`` (syft's spelling)."""
    if not source:
        return None
    source_name, _, rest = source.partition(" ")
    source_version = rest.strip().strip("()").strip()
    if source_version and source_version != version:
        return f"{source_name}@{source_version}"
    return source_name if source_name != name else None


def _paragraphs(text: str) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields = {}
        elif line[0] not in " \t":  # continuation lines (descriptions, conffiles) are not needed
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
    if fields:
        yield fields
