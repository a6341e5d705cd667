"""What an SBOM says, as Hoist indexes it: the components an artifact contains. The formats
themselves (CycloneDX, SPDX) are read and written by the ``hoist.sbom`` adapter."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SbomFormat(StrEnum):
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"


CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json"
SPDX_MEDIA_TYPE = "application/spdx+json"


@dataclass(frozen=True, slots=True)
class Component:
    """One package inside an artifact. ``type`` is the purl type (pypi, npm, maven, deb, apk,
    generic, ...); ``name`` is the package name without its namespace, as the ecosystem spells it."""

    type: str
    name: str
    version: str | None = None
    namespace: str | None = None
    purl: str | None = None

    @property
    def key(self) -> str:
        """The name the index searches by: lower-case, namespace-qualified for maven/npm scopes."""
        base = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return base.lower()


@dataclass(frozen=True, slots=True)
class SbomDocument:
    """A validated SBOM: its format and spec version, the components it lists, the exact bytes."""

    format: SbomFormat
    spec_version: str
    components: tuple[Component, ...]
    raw: bytes
    generated: bool = False  # made by Hoist at push rather than supplied

    @property
    def media_type(self) -> str:
        return CYCLONEDX_MEDIA_TYPE if self.format is SbomFormat.CYCLONEDX else SPDX_MEDIA_TYPE
