"""Java archives: Maven's ``META-INF/maven/<groupId>/<artifactId>/pom.properties``."""

from __future__ import annotations

from hoist.sbom.packages import Package, valid

JAVA_ARCHIVES = (".jar", ".war", ".ear")


def parse_pom_properties(data: bytes, path: str) -> Package | None:
    """``pkg:maven/<groupId>/<artifactId>@<version>``; group and artifact fall back to the folder names."""
    fields: dict[str, str] = {}
    for raw in data.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i > 0), default=-1)
        if cut > 0:
            fields[line[:cut].strip()] = line[cut + 1 :].strip()
    parts = path.split("/")
    group = fields.get("groupId") or parts[-3]
    artifact = fields.get("artifactId") or parts[-2]
    version = fields.get("version")
    if not version:
        return None
    package = Package("maven", artifact, version, namespace=group)
    return package if valid(package) else None
