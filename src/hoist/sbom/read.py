"""SBOMs supplied by users: CycloneDX JSON 1.4-1.6 (schema-validated by cyclonedx-python-lib) or
SPDX 2.3 JSON; anything else is refused with a message that says what was wrong."""

from __future__ import annotations

import re
from typing import Any

from cyclonedx.schema import SchemaVersion
from packageurl import PackageURL

from hoist.domain.errors import InvalidInput
from hoist.domain.jsonlimits import SBOM_BYTES, read_json
from hoist.domain.sbom import Component, SbomDocument, SbomFormat
from hoist.sbom.spdx_validation import ACCEPTED, check_spdx
from hoist.sbom.validation import first_error

CYCLONEDX_VERSIONS = {"1.4": SchemaVersion.V1_4, "1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}
# relationships by which an SPDX package holds others: a described package that has them is the subject
_HOLDS = frozenset({"CONTAINS", "DEPENDS_ON"})


def read_sbom(data: bytes) -> SbomDocument:
    document = _json_object(data)
    if "bomFormat" in document:
        return _cyclonedx(document, data)
    if "spdxVersion" in document:
        check_spdx(document)
        return SbomDocument(SbomFormat.SPDX, "2.3", _spdx_components(document), data)
    if "@context" in document:
        raise InvalidInput(f"JSON-LD documents (SPDX 3) are not accepted; {ACCEPTED}")
    raise InvalidInput(f"not an SBOM: the JSON object has neither bomFormat (CycloneDX) nor spdxVersion (SPDX); {ACCEPTED}")


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"not UTF-8 text (byte {exc.start}); {ACCEPTED}") from None
    start = text.lstrip()[:200]
    if start.startswith("<"):
        raise InvalidInput(f"XML SBOMs are not accepted; {ACCEPTED}")
    if re.match(r"(#[^\n]*\n\s*)*SPDXVersion:", start):
        raise InvalidInput(f"SPDX tag-value documents are not accepted; {ACCEPTED}")
    try:
        document = read_json(text, limit=SBOM_BYTES)
    except InvalidInput as exc:
        raise InvalidInput(f"{exc.message}; {ACCEPTED}") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"the JSON is a {type(document).__name__}, not an object; {ACCEPTED}")
    return document


def _cyclonedx(document: dict[str, Any], data: bytes) -> SbomDocument:
    if document["bomFormat"] != "CycloneDX":
        raise InvalidInput(f"bomFormat is {document['bomFormat']!r}, not 'CycloneDX'; {ACCEPTED}", path="$.bomFormat")
    version = document.get("specVersion")
    schema = CYCLONEDX_VERSIONS.get(version) if isinstance(version, str) else None
    if schema is None:
        raise InvalidInput(f"CycloneDX specVersion {version!r} is not accepted; {ACCEPTED}", path="$.specVersion")
    error = first_error(document, schema)
    if error:
        path, message = error
        raise InvalidInput(f"not valid CycloneDX {version}: {path}: {message} ({ACCEPTED})", path=path)
    return SbomDocument(SbomFormat.CYCLONEDX, str(version), _cyclonedx_components(document), data)


def _cyclonedx_components(document: dict[str, Any]) -> tuple[Component, ...]:
    """Every component, nested ones included, in document order without repeats."""
    found: dict[Component, None] = {}
    stack = [(f"$.components[{i}]", c) for i, c in reversed(list(enumerate(document.get("components", []))))]
    while stack:
        path, item = stack.pop()
        purl = item.get("purl")
        if purl:
            found[_from_purl(purl, f"{path}.purl", item.get("version"))] = None
        else:
            found[Component("generic", item["name"], item.get("version"), item.get("group") or None)] = None
        nested = item.get("components", [])
        stack += [(f"{path}.components[{i}]", c) for i, c in reversed(list(enumerate(nested)))]
    return tuple(found)


def _spdx_components(document: dict[str, Any]) -> tuple[Component, ...]:
    """Every package but the subject: a package the document describes that contains or depends on others."""
    relationships = document.get("relationships", [])
    described = set(document.get("documentDescribes", []))
    described |= {r["relatedSpdxElement"] for r in relationships if r["relationshipType"] == "DESCRIBES"}
    described |= {r["spdxElementId"] for r in relationships if r["relationshipType"] == "DESCRIBED_BY"}
    holders = {r["spdxElementId"] for r in relationships if r["relationshipType"] in _HOLDS}
    subjects = described & holders
    found: dict[Component, None] = {}
    for index, package in enumerate(document.get("packages", [])):
        if package["SPDXID"] in subjects:
            continue
        purls = [r["referenceLocator"] for r in package.get("externalRefs", []) if r["referenceType"] == "purl"]
        version = package.get("versionInfo")
        if purls:
            found[_from_purl(purls[0], f"$.packages[{index}].externalRefs", version)] = None
        else:
            found[Component("generic", package["name"], version)] = None
    return tuple(found)


def _from_purl(text: str, path: str, version: str | None) -> Component:
    try:
        purl = PackageURL.from_string(text)
    except ValueError as exc:
        raise InvalidInput(f"{path}: {text!r} is not a package URL: {exc}", path=path) from None
    return Component(purl.type, purl.name, purl.version or version, purl.namespace, purl.to_string())
