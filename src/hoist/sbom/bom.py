"""CycloneDX 1.6 JSON for a generated SBOM, written by cyclonedx-python-lib and validated by it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cyclonedx.model import HashAlgorithm, HashType
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from packageurl import PackageURL

from hoist import __version__
from hoist.domain.errors import InvalidInput
from hoist.domain.sbom import SbomDocument, SbomFormat
from hoist.sbom.packages import Package
from hoist.sbom.validation import first_error

_SERIAL_NAMESPACE = uuid.UUID("6f2a4c1e-9b7d-5e3f-8a1c-2d4b6e8f0a13")  # Hoist's namespace for uuid5 serial numbers
_HASH_ALGORITHMS = {"sha256": HashAlgorithm.SHA_256, "sha384": HashAlgorithm.SHA_384, "sha512": HashAlgorithm.SHA_512}


@dataclass(frozen=True, slots=True)
class Subject:
    """The artifact an SBOM describes (CycloneDX ``metadata.component``)."""

    name: str
    version: str
    digest: str  # <algorithm>:<hex> of the artifact's bytes (files) or manifest (images)
    container: bool
    purl: PackageURL | None


def build(subject: Subject, packages: Iterable[Package], *, now: datetime) -> SbomDocument:
    """Components de-duplicated by purl and sorted; the serial number is derived from name, version
    and digest, so the same input and ``now`` give the same bytes."""
    unique = {p.purl().to_string(): p for p in packages}
    ordered = [unique[key] for key in sorted(unique)]
    root = CdxComponent(
        type=ComponentType.CONTAINER if subject.container else ComponentType.APPLICATION,
        name=subject.name,
        version=subject.version,
        bom_ref=subject.digest,
        purl=subject.purl,
        hashes=_hashes(subject.digest),
    )
    components = [_component(key, p) for key, p in unique.items()]
    # the graph in one go: Bom.register_dependency scans every registered dependency (quadratic)
    dependencies = [Dependency(ref=root.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in components])]
    dependencies += [Dependency(ref=c.bom_ref) for c in components]
    tools = ToolRepository(components=[CdxComponent(type=ComponentType.APPLICATION, name="hoist", version=__version__)])
    bom = Bom(
        serial_number=uuid.uuid5(_SERIAL_NAMESPACE, f"{subject.name}\0{subject.version}\0{subject.digest}"),
        metadata=BomMetaData(component=root, tools=tools, timestamp=now if now.tzinfo else now.replace(tzinfo=UTC)),
        components=components,
        dependencies=dependencies,
    )
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    error = first_error(json.loads(text), SchemaVersion.V1_6, strict=True)
    if error:
        raise InvalidInput(f"the generated SBOM is not valid CycloneDX 1.6 at {error[0]}: {error[1]}")
    return SbomDocument(
        format=SbomFormat.CYCLONEDX,
        spec_version="1.6",
        components=tuple(p.component() for p in ordered),
        raw=text.encode(),
        generated=True,
    )


def _component(purl: str, package: Package) -> CdxComponent:
    return CdxComponent(
        type=ComponentType.LIBRARY,
        name=package.name,
        version=package.version,
        group=package.namespace if package.type in ("maven", "npm") else None,
        purl=package.purl(),
        bom_ref=purl,
    )


def _hashes(digest: str) -> list[HashType]:
    algorithm, _, value = digest.partition(":")
    alg = _HASH_ALGORITHMS.get(algorithm)
    return [HashType(alg=alg, content=value)] if alg else []
