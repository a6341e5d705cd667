"""The SBOM adapter as the services see it (``hoist.domain.inventory.SbomReader``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from hoist.domain.sbom import SbomDocument
from hoist.sbom.generate import generate_for_files, generate_for_image
from hoist.sbom.read import read_sbom
from hoist.sbom.spdx import to_spdx


class CycloneDxSboms:
    """Generates CycloneDX 1.6 at push, reads supplied CycloneDX 1.4-1.6 or SPDX 2.3, exports SPDX 2.3."""

    def generate_for_files(
        self, files: Sequence[tuple[Path, str]], *, name: str, version: str, now: datetime
    ) -> SbomDocument:
        return generate_for_files(files, name=name, version=version, now=now)

    def generate_for_image(
        self,
        layers: Sequence[tuple[str, Callable[[], BinaryIO]]],
        *,
        name: str,
        version: str,
        digest: str,
        now: datetime,
    ) -> SbomDocument:
        return generate_for_image(layers, name=name, version=version, digest=digest, now=now)

    def read(self, data: bytes) -> SbomDocument:
        return read_sbom(data)

    def to_spdx(self, sbom: SbomDocument, *, namespace: str, now: datetime) -> bytes:
        return to_spdx(sbom, namespace=namespace, now=now)
