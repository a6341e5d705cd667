"""SPDX 2.3 JSON checked by hand: the fields the SPDX 2.3 specification requires, their formats, and
that every relationship names an element of the document. (spdx-tools would add eight packages,
among them rdflib and beartype, to check what these hundred lines check.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from packageurl import PackageURL

from hoist.domain.errors import InvalidInput

ACCEPTED = "accepted: CycloneDX JSON (specVersion 1.4, 1.5 or 1.6) or SPDX 2.3 JSON"

SPDX_ID = re.compile(r"^SPDXRef-[A-Za-z0-9.\-]+$")
_EXTERNAL_ID = re.compile(r"^DocumentRef-[A-Za-z0-9.\-]+:SPDXRef-[A-Za-z0-9.\-]+$")
_CREATOR = re.compile(r"^(Person|Organization|Tool): \S")
_CATEGORIES = frozenset({"SECURITY", "PACKAGE-MANAGER", "PACKAGE_MANAGER", "PERSISTENT-ID", "PERSISTENT_ID", "OTHER"})
_CHECKSUM_NAMES = """
SHA1 SHA224 SHA256 SHA384 SHA512 MD2 MD4 MD5 MD6 SHA3-256 SHA3-384 SHA3-512
BLAKE2b-256 BLAKE2b-384 BLAKE2b-512 BLAKE3 ADLER32
"""
_RELATIONSHIP_NAMES = """
DESCRIBES DESCRIBED_BY CONTAINS CONTAINED_BY DEPENDS_ON DEPENDENCY_OF DEPENDENCY_MANIFEST_OF BUILD_DEPENDENCY_OF
DEV_DEPENDENCY_OF OPTIONAL_DEPENDENCY_OF PROVIDED_DEPENDENCY_OF TEST_DEPENDENCY_OF RUNTIME_DEPENDENCY_OF EXAMPLE_OF
GENERATES GENERATED_FROM ANCESTOR_OF DESCENDANT_OF VARIANT_OF DISTRIBUTION_ARTIFACT PATCH_FOR PATCH_APPLIED COPY_OF
FILE_ADDED FILE_DELETED FILE_MODIFIED EXPANDED_FROM_ARCHIVE DYNAMIC_LINK STATIC_LINK DATA_FILE_OF TEST_CASE_OF
BUILD_TOOL_OF DEV_TOOL_OF TEST_OF TEST_TOOL_OF DOCUMENTATION_OF OPTIONAL_COMPONENT_OF METAFILE_OF PACKAGE_OF AMENDS
PREREQUISITE_FOR HAS_PREREQUISITE REQUIREMENT_DESCRIPTION_FOR SPECIFICATION_FOR OTHER
"""
_CHECKSUMS = frozenset(_CHECKSUM_NAMES.split())
RELATIONSHIPS = frozenset(_RELATIONSHIP_NAMES.split())


def invalid(path: str, problem: str) -> InvalidInput:
    return InvalidInput(f"not a valid SPDX 2.3 document: {path}: {problem} ({ACCEPTED})", path=path)


def check_spdx(document: dict[str, Any]) -> None:
    """Raise InvalidInput naming the first problem's JSON path."""
    version = document.get("spdxVersion")
    if version != "SPDX-2.3":
        raise InvalidInput(f"SPDX version {version!r} is not accepted: only SPDX-2.3 ({ACCEPTED})", path="$.spdxVersion")
    _expect(document, "$", "SPDXID", lambda v: v == "SPDXRef-DOCUMENT", "must be 'SPDXRef-DOCUMENT'")
    _expect(document, "$", "dataLicense", lambda v: v == "CC0-1.0", "must be 'CC0-1.0'")
    _expect(document, "$", "name", _text, "must be a non-empty string")
    _expect(document, "$", "documentNamespace", _namespace, "must be an absolute URI without a '#' part")
    _creation_info(document)
    ids = {"SPDXRef-DOCUMENT"}
    for index, package in enumerate(_list(document, "$", "packages")):
        ids.add(_element(package, f"$.packages[{index}]", ids))
        _package(package, f"$.packages[{index}]")
    for index, file in enumerate(_list(document, "$", "files")):
        ids.add(_element(file, f"$.files[{index}]", ids))
        _expect(file, f"$.files[{index}]", "fileName", _text, "must be a non-empty string")
        _expect(
            file, f"$.files[{index}]", "checksums", lambda v: isinstance(v, list) and bool(v), "must list a SHA1 checksum"
        )
    for index, snippet in enumerate(_list(document, "$", "snippets")):
        ids.add(_element(snippet, f"$.snippets[{index}]", ids))
    _graph(document, ids)


def _creation_info(document: dict[str, Any]) -> None:
    info = document.get("creationInfo")
    if not isinstance(info, dict):
        raise invalid("$.creationInfo", "required object is missing")
    _expect(info, "$.creationInfo", "created", _timestamp, "must be a date-time such as 2026-01-01T00:00:00Z")
    creators = info.get("creators")
    if not isinstance(creators, list) or not creators:
        raise invalid("$.creationInfo.creators", "must be a non-empty list")
    for index, creator in enumerate(creators):
        if not isinstance(creator, str) or not _CREATOR.match(creator):
            raise invalid(f"$.creationInfo.creators[{index}]", "must start with 'Tool: ', 'Organization: ' or 'Person: '")


def _element(element: object, path: str, ids: set[str]) -> str:
    """The element's SPDXID, checked for form and uniqueness."""
    if not isinstance(element, dict):
        raise invalid(path, "must be an object")
    _expect(
        element, path, "SPDXID", lambda v: isinstance(v, str) and bool(SPDX_ID.match(v)), "must match SPDXRef-[A-Za-z0-9.-]+"
    )
    spdx_id = str(element["SPDXID"])
    if spdx_id in ids:
        raise invalid(f"{path}.SPDXID", f"{spdx_id!r} is used by another element")
    return spdx_id


def _package(package: dict[str, Any], path: str) -> None:
    _expect(package, path, "name", _text, "must be a non-empty string")
    _expect(package, path, "downloadLocation", _text, "must be a location, NONE or NOASSERTION")
    for key in ("versionInfo", "licenseConcluded", "licenseDeclared", "copyrightText"):
        if key in package and not isinstance(package[key], str):
            raise invalid(f"{path}.{key}", "must be a string")
    if "filesAnalyzed" in package and not isinstance(package["filesAnalyzed"], bool):
        raise invalid(f"{path}.filesAnalyzed", "must be true or false")
    for index, checksum in enumerate(_list(package, path, "checksums")):
        where = f"{path}.checksums[{index}]"
        _expect(checksum, where, "algorithm", lambda v: v in _CHECKSUMS, f"must be one of {', '.join(sorted(_CHECKSUMS))}")
        _expect(
            checksum,
            where,
            "checksumValue",
            lambda v: isinstance(v, str) and bool(re.fullmatch(r"[0-9a-fA-F]+", v)),
            "must be hex",
        )
    for index, ref in enumerate(_list(package, path, "externalRefs")):
        where = f"{path}.externalRefs[{index}]"
        _expect(
            ref,
            where,
            "referenceCategory",
            lambda v: v in _CATEGORIES,
            "must be SECURITY, PACKAGE-MANAGER, PERSISTENT-ID or OTHER",
        )
        _expect(ref, where, "referenceType", _text, "must be a non-empty string")
        _expect(ref, where, "referenceLocator", _text, "must be a non-empty string")
        if ref["referenceType"] == "purl":
            try:
                PackageURL.from_string(ref["referenceLocator"])
            except ValueError as exc:
                raise invalid(f"{where}.referenceLocator", f"not a package URL: {exc}") from None


def _graph(document: dict[str, Any], ids: set[str]) -> None:
    def known(value: object) -> bool:
        return (
            value in ids or value in ("NONE", "NOASSERTION") or (isinstance(value, str) and bool(_EXTERNAL_ID.match(value)))
        )

    describes = False
    for index, described in enumerate(_list(document, "$", "documentDescribes")):
        if described not in ids:
            raise invalid(f"$.documentDescribes[{index}]", f"{described!r} names no element of this document")
        describes = True
    for index, relationship in enumerate(_list(document, "$", "relationships")):
        path = f"$.relationships[{index}]"
        _expect(relationship, path, "spdxElementId", known, "must name an element of this document")
        _expect(relationship, path, "relationshipType", lambda v: v in RELATIONSHIPS, "is not an SPDX 2.3 relationship type")
        _expect(relationship, path, "relatedSpdxElement", known, "must name an element of this document")
        kind, source, target = (
            relationship["relationshipType"],
            relationship["spdxElementId"],
            relationship["relatedSpdxElement"],
        )
        describes |= (kind == "DESCRIBES" and source == "SPDXRef-DOCUMENT") or (
            kind == "DESCRIBED_BY" and target == "SPDXRef-DOCUMENT"
        )
    if not describes:
        raise invalid(
            "$.relationships",
            "no SPDXRef-DOCUMENT DESCRIBES relationship (nor documentDescribes) says what the document is about",
        )


def _expect(container: object, path: str, key: str, ok: Callable[[Any], bool], problem: str) -> None:
    if not isinstance(container, dict):
        raise invalid(path, "must be an object")
    if key not in container:
        raise invalid(f"{path}.{key}", "required field is missing")
    if not ok(container[key]):
        raise invalid(f"{path}.{key}", f"{problem}, not {_show(container[key])}")


def _list(container: dict[str, Any], path: str, key: str) -> list[Any]:
    value = container.get(key, [])
    if not isinstance(value, list):
        raise invalid(f"{path}.{key}", "must be a list")
    return value


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _namespace(value: object) -> bool:
    if not isinstance(value, str) or "#" in value:
        return False
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path))


def _timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
