"""A package found in an artifact, before it becomes a CycloneDX component: its purl parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from packageurl import PackageURL

from hoist.domain.sbom import Component

OS_TYPES = frozenset({"deb", "apk"})
_PEP503 = re.compile(r"[-_.]+")


@dataclass(frozen=True, slots=True)
class Package:
    type: str
    name: str
    version: str | None
    namespace: str | None = None
    qualifiers: tuple[tuple[str, str], ...] = ()

    def purl(self) -> PackageURL:
        return PackageURL(
            type=self.type,
            namespace=self.namespace,
            name=self.name,
            version=self.version,
            qualifiers=dict(self.qualifiers) or None,
        )

    def with_qualifiers(self, **extra: str) -> Package:
        merged = dict(self.qualifiers) | extra
        return replace(self, qualifiers=tuple(sorted(merged.items())))

    def component(self) -> Component:
        return Component(
            type=self.type, name=self.name, version=self.version, namespace=self.namespace, purl=self.purl().to_string()
        )


def pep503(name: str) -> str:
    """``Django_REST.framework`` -> ``django-rest-framework``."""
    return _PEP503.sub("-", name).lower()


def valid(package: Package) -> bool:
    """Whether a purl can be built (a name is required; packageurl-python rejects some odd input)."""
    if not package.name.strip():
        return False
    try:
        package.purl()
    except ValueError:
        return False
    return True
