"""apk's database: ``/lib/apk/db/installed``, blank-line separated records of one-letter fields."""

from __future__ import annotations

from hoist.sbom.packages import Package, valid


def parse_installed(data: bytes) -> list[Package]:
    """``pkg:apk/<name>@<version>?arch=<arch>[&upstream=<origin>]``, namespace added later."""
    found = []
    for record in data.decode("utf-8", errors="replace").split("\n\n"):
        fields: dict[str, str] = {}
        for line in record.splitlines():
            if len(line) > 2 and line[1] == ":":
                fields.setdefault(line[0], line[2:].strip())
        name, version = fields.get("P"), fields.get("V")
        if not name or not version:
            continue
        qualifiers = {}
        if fields.get("A"):
            qualifiers["arch"] = fields["A"]
        if fields.get("o") and fields["o"] != name:
            qualifiers["upstream"] = fields["o"]
        package = Package("apk", name, version, qualifiers=tuple(sorted(qualifiers.items())))
        if valid(package):
            found.append(package)
    return found
