"""SPDX 2.3 JSON export of a CycloneDX SBOM: the subject package DESCRIBED by the document and
CONTAINING every component (nested components contained by their parent)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from hoist import __version__
from hoist.domain.errors import InvalidInput
from hoist.domain.sbom import SbomDocument, SbomFormat

_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")
_CHECKSUM = {
    "MD5": "MD5",
    "SHA-1": "SHA1",
    "SHA-256": "SHA256",
    "SHA-384": "SHA384",
    "SHA-512": "SHA512",
    "SHA3-256": "SHA3-256",
    "SHA3-384": "SHA3-384",
    "SHA3-512": "SHA3-512",
    "BLAKE2b-256": "BLAKE2b-256",
    "BLAKE2b-384": "BLAKE2b-384",
    "BLAKE2b-512": "BLAKE2b-512",
    "BLAKE3": "BLAKE3",
}
_UNNAMED = {"name": "unnamed-subject", "bom-ref": "unnamed-subject", "type": "other"}
_PURPOSE = {
    "application": "APPLICATION",
    "framework": "FRAMEWORK",
    "library": "LIBRARY",
    "container": "CONTAINER",
    "operating-system": "OPERATING-SYSTEM",
    "device": "DEVICE",
    "firmware": "FIRMWARE",
    "file": "FILE",
}


def to_spdx(doc: SbomDocument, *, namespace: str, now: datetime) -> bytes:
    """SPDX 2.3 JSON bytes (keys sorted, so the same input gives the same bytes). An SPDX document
    is returned as it is. ``namespace`` is the document's unique absolute URI."""
    if doc.format is SbomFormat.SPDX:
        return doc.raw
    parts = urlsplit(namespace)
    if not parts.scheme or not (parts.netloc or parts.path) or "#" in namespace:
        raise InvalidInput(f"SPDX document namespace {namespace!r} is not an absolute URI without a '#' part")
    cyclonedx = json.loads(doc.raw)
    ids: set[str] = {"SPDXRef-DOCUMENT"}
    packages: list[dict[str, Any]] = []
    relationships: list[dict[str, str]] = []
    subject = cyclonedx.get("metadata", {}).get("component")
    # without a metadata.component, a stand-in subject: SPDX readers take a described package that
    # contains others for the subject, so describing the components themselves would hide one
    parent = _add(subject or _UNNAMED, ids, packages)
    relationships.append(_relationship("SPDXRef-DOCUMENT", "DESCRIBES", parent))
    stack = [(parent, c) for c in reversed(cyclonedx.get("components", []))]
    while stack:
        holder, component = stack.pop()
        spdx_id = _add(component, ids, packages)
        relationships.append(_relationship(holder, "CONTAINS", spdx_id))
        stack += [(spdx_id, c) for c in reversed(component.get("components", []))]
    name = f"{subject['name']}-{subject['version']}" if subject and subject.get("version") else (subject or {}).get("name")
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name or "sbom",
        "documentNamespace": namespace,
        "creationInfo": {
            "created": (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": [f"Tool: hoist-{__version__}"],
            "comment": f"Converted from CycloneDX {doc.spec_version} {cyclonedx.get('serialNumber', '')}".strip(),
        },
        "packages": packages,
        "relationships": relationships,
    }
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"


def _add(component: dict[str, Any], ids: set[str], packages: list[dict[str, Any]]) -> str:
    name = str(component["name"])
    group = component.get("group")
    identity = str(component.get("bom-ref") or component.get("purl") or f"{group}/{name}@{component.get('version')}")
    safe = _UNSAFE.sub("-", name).strip("-") or "package"
    spdx_id = f"SPDXRef-Package-{safe}-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"
    base, count = spdx_id, 1
    while spdx_id in ids:
        count += 1
        spdx_id = f"{base}-{count}"
    ids.add(spdx_id)
    package: dict[str, Any] = {
        "SPDXID": spdx_id,
        "name": name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "primaryPackagePurpose": _PURPOSE.get(str(component.get("type")), "OTHER"),
    }
    if component.get("version"):
        package["versionInfo"] = str(component["version"])
    if component.get("purl"):
        package["externalRefs"] = [
            {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": component["purl"]}
        ]
    checksums = [
        {"algorithm": _CHECKSUM[h["alg"]], "checksumValue": h["content"]}
        for h in component.get("hashes", [])
        if h.get("alg") in _CHECKSUM
    ]
    if checksums:
        package["checksums"] = checksums
    packages.append(package)
    return spdx_id


def _relationship(source: str, kind: str, target: str) -> dict[str, str]:
    return {"spdxElementId": source, "relationshipType": kind, "relatedSpdxElement": target}
