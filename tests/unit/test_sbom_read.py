"""Supplied SBOMs: CycloneDX 1.4-1.6 and SPDX 2.3 JSON read into components, everything else refused
with a message that says what was wrong; and the SPDX 2.3 export of Hoist's CycloneDX."""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from hoist.domain.errors import InvalidInput
from hoist.domain.jsonlimits import MAX_DEPTH
from hoist.domain.sbom import Component, SbomDocument, SbomFormat
from hoist.sbom.bom import Subject, build
from hoist.sbom.packages import Package
from hoist.sbom.read import read_sbom
from hoist.sbom.spdx import to_spdx

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACCEPTED = "accepted: CycloneDX JSON (specVersion 1.4, 1.5 or 1.6) or SPDX 2.3 JSON"


def cyclonedx(version: str = "1.6", **extra: Any) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": version, "version": 1, **extra}


def read(document: dict[str, Any] | list[Any]) -> SbomDocument:
    return read_sbom(json.dumps(document).encode())


def refused(data: bytes | dict[str, Any] | list[Any]) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    with pytest.raises(InvalidInput) as caught:
        read_sbom(raw)
    return caught.value.message


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6"])
def test_cyclonedx_components_including_nested_ones(version: str) -> None:
    document = cyclonedx(
        version,
        metadata={"component": {"type": "application", "name": "shop", "version": "1.0", "purl": "pkg:generic/shop@1.0"}},
        components=[
            {
                "type": "library",
                "name": "log4j-core",
                "group": "org.apache.logging.log4j",
                "version": "2.14.1",
                "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                "components": [{"type": "library", "name": "core", "purl": "pkg:npm/%40angular/core@17.0.0"}],
            },
            {"type": "library", "name": "Django_REST", "version": "3.0", "purl": "pkg:pypi/Django_REST@3.0"},
            {"type": "library", "name": "internal-lib", "group": "acme", "version": "7"},
            {"type": "library", "name": "log4j-core", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
        ],
    )
    doc = read(document)
    assert doc.format is SbomFormat.CYCLONEDX and doc.spec_version == version and not doc.generated
    assert doc.raw == json.dumps(document).encode()
    assert doc.components == (
        Component(
            "maven",
            "log4j-core",
            "2.14.1",
            "org.apache.logging.log4j",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        ),
        Component("npm", "core", "17.0.0", "@angular", "pkg:npm/%40angular/core@17.0.0"),
        Component("pypi", "django-rest", "3.0", None, "pkg:pypi/django-rest@3.0"),
        Component("generic", "internal-lib", "7", "acme", None),
    )
    assert doc.components[0].key == "org.apache.logging.log4j/log4j-core"


def test_cyclonedx_schema_errors_name_the_path() -> None:
    assert refused(cyclonedx(components=[{"name": "x"}])) == (
        f"not valid CycloneDX 1.6: $.components[0]: 'type' is a required property ({ACCEPTED})"
    )
    message = refused(cyclonedx("1.5", metadata={"timestamp": "yesterday"}))
    assert message.startswith("not valid CycloneDX 1.5: $.metadata.timestamp: 'yesterday' is not a 'date-time'")
    assert "Additional properties are not allowed ('bogus' was unexpected)" in refused(cyclonedx("1.4", bogus=1))


def many(count: int) -> list[dict[str, Any]]:
    return [{"type": "library", "name": f"n{i}", "version": "1.0.0", "purl": f"pkg:npm/n{i}@1.0.0"} for i in range(count)]


def test_errors_deep_in_large_arrays_keep_their_real_path() -> None:
    components = many(150)
    components[100]["type"] = "bogus"
    assert refused(cyclonedx(components=components)).startswith("not valid CycloneDX 1.6: $.components[100].type: 'bogus'")
    components[100]["type"] = "library"
    components[3]["components"] = many(80)
    components[3]["components"][70]["name"] = 5
    assert refused(cyclonedx(components=components)).startswith(
        "not valid CycloneDX 1.6: $.components[3].components[70].name: 5 is not of type 'string'"
    )
    components[3]["components"][70] = dict(components[3]["components"][69])
    assert "$.components[3].components: array has non-unique elements: items 69 and 70" in refused(
        cyclonedx(components=components)
    )
    components[3]["components"][70]["name"] = "n70"
    components[149] = dict(components[2])
    assert "$.components: array has non-unique elements: items 2 and 149" in refused(cyclonedx(components=components))


def test_items_differing_only_in_nested_components_are_not_duplicates() -> None:
    first = {"type": "library", "name": "a", "components": [{"type": "library", "name": "x"}]}
    second = {"type": "library", "name": "a", "components": [{"type": "library", "name": "y"}]}
    doc = read(cyclonedx(components=[first, second]))
    assert [c.name for c in doc.components] == ["a", "x", "y"]


def test_a_large_sbom_validates_in_linear_time() -> None:
    """jsonschema's uniqueItems is quadratic: in one piece this document takes minutes to validate."""
    components = many(3000)
    for i, component in enumerate(components):
        component["bom-ref"] = f"r{i}"
    dependencies = [{"ref": f"r{i}", "dependsOn": [f"r{j}" for j in range(i + 1, min(i + 4, 3000))]} for i in range(3000)]
    start = time.perf_counter()
    doc = read(cyclonedx(components=components, dependencies=dependencies))
    assert len(doc.components) == 3000
    assert time.perf_counter() - start < 20


def test_invalid_purl_is_refused() -> None:
    message = refused(cyclonedx(components=[{"type": "library", "name": "x", "purl": "pkg:"}]))
    assert message.startswith("$.components[0].purl: 'pkg:' is not a package URL")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfe\x00garbage", f"not UTF-8 text (byte 0); {ACCEPTED}"),
        (
            b'<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>',
            f"XML SBOMs are not accepted; {ACCEPTED}",
        ),
        (b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n", f"SPDX tag-value documents are not accepted; {ACCEPTED}"),
        (b"## comment\nSPDXVersion: SPDX-2.3\n", f"SPDX tag-value documents are not accepted; {ACCEPTED}"),
        (
            b'{"bomFormat": "CycloneDX",',
            f"not JSON: Expecting property name enclosed in double quotes at line 1 column 27; {ACCEPTED}",
        ),
        (b"[1, 2]", f"the JSON is a list, not an object; {ACCEPTED}"),
        (
            b'{"name": "x"}',
            f"not an SBOM: the JSON object has neither bomFormat (CycloneDX) nor spdxVersion (SPDX); {ACCEPTED}",
        ),
        (
            b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}',
            f"JSON-LD documents (SPDX 3) are not accepted; {ACCEPTED}",
        ),
        (b'{"bomFormat": "SPDX"}', f"bomFormat is 'SPDX', not 'CycloneDX'; {ACCEPTED}"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.3"}', f"CycloneDX specVersion '1.3' is not accepted; {ACCEPTED}"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.7"}', f"CycloneDX specVersion '1.7' is not accepted; {ACCEPTED}"),
        (b'{"bomFormat": "CycloneDX"}', f"CycloneDX specVersion None is not accepted; {ACCEPTED}"),
        (b"[" * 100000, f"the JSON is nested too deeply (over {MAX_DEPTH} levels); {ACCEPTED}"),
    ],
)
def test_what_is_not_an_accepted_sbom(data: bytes, expected: str) -> None:
    assert refused(data) == expected


def spdx(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "SPDXID": "SPDXRef-DOCUMENT",
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "name": "myapp-1.0.0",
        "documentNamespace": "https://registry.example/spdx/myapp-1.0.0-3f1c0e9a",
        "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: syft-1.51.0", "Organization: Acme"]},
        "packages": [
            {
                "SPDXID": "SPDXRef-DocumentRoot-Image-myapp",
                "name": "myapp",
                "versionInfo": "sha256:abc",
                "downloadLocation": "NOASSERTION",
                "externalRefs": [
                    {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:oci/myapp"}
                ],
            },
            {
                "SPDXID": "SPDXRef-Package-log4j-core",
                "name": "log4j-core",
                "versionInfo": "2.14.1",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "checksums": [{"algorithm": "SHA256", "checksumValue": "aa" * 32}],
                "externalRefs": [
                    {
                        "referenceCategory": "SECURITY",
                        "referenceType": "cpe23Type",
                        "referenceLocator": "cpe:2.3:a:apache:log4j",
                    },
                    {
                        "referenceCategory": "PACKAGE_MANAGER",  # spdx-tools' spelling, accepted on read
                        "referenceType": "purl",
                        "referenceLocator": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                    },
                ],
            },
            {
                "SPDXID": "SPDXRef-Package-vendored",
                "name": "vendored-thing",
                "versionInfo": "0.3",
                "downloadLocation": "NONE",
            },
        ],
        "relationships": [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": "SPDXRef-DocumentRoot-Image-myapp",
            },
            {
                "spdxElementId": "SPDXRef-DocumentRoot-Image-myapp",
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": "SPDXRef-Package-log4j-core",
            },
            {
                "spdxElementId": "SPDXRef-DocumentRoot-Image-myapp",
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": "SPDXRef-Package-vendored",
            },
        ],
    }
    document.update(changes)
    return document


def test_spdx_23_packages_become_components_without_the_described_subject() -> None:
    doc = read(spdx())
    assert doc.format is SbomFormat.SPDX and doc.spec_version == "2.3"
    assert doc.media_type == "application/spdx+json"
    assert doc.components == (
        Component(
            "maven",
            "log4j-core",
            "2.14.1",
            "org.apache.logging.log4j",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        ),
        Component("generic", "vendored-thing", "0.3"),
    )


def test_spdx_describing_a_single_package_lists_it() -> None:
    document = spdx(documentDescribes=["SPDXRef-Package-log4j-core"], relationships=[])
    document["packages"] = document["packages"][1:2]
    assert [c.name for c in read(document).components] == ["log4j-core"]


def broken(path: str, value: Any) -> dict[str, Any]:
    """spdx() with the value at ``path`` (dots and [index]) replaced, or deleted when value is ...;"""
    document = spdx()
    keys = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", path)]
    target: Any = document
    for key in keys[:-1]:
        target = target[key]
    if value is ...:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("spdxVersion", "SPDX-2.2", f"SPDX version 'SPDX-2.2' is not accepted: only SPDX-2.3 ({ACCEPTED})"),
        ("dataLicense", "MIT", "$.dataLicense: must be 'CC0-1.0', not 'MIT'"),
        ("documentNamespace", "not a uri", "$.documentNamespace: must be an absolute URI without a '#' part"),
        ("documentNamespace", ..., "$.documentNamespace: required field is missing"),
        ("creationInfo.created", "yesterday", "$.creationInfo.created: must be a date-time such as 2026-01-01T00:00:00Z"),
        ("creationInfo.creators", [], "$.creationInfo.creators: must be a non-empty list"),
        ("creationInfo.creators[1]", "Acme", "$.creationInfo.creators[1]: must start with 'Tool: ', 'Organization: '"),
        ("packages[1].downloadLocation", ..., "$.packages[1].downloadLocation: required field is missing"),
        ("packages[1].SPDXID", "Package_x", "$.packages[1].SPDXID: must match SPDXRef-[A-Za-z0-9.-]+, not 'Package_x'"),
        (
            "packages[2].SPDXID",
            "SPDXRef-Package-log4j-core",
            "$.packages[2].SPDXID: 'SPDXRef-Package-log4j-core' is used by",
        ),
        ("packages[1].name", "", "$.packages[1].name: must be a non-empty string, not ''"),
        ("packages[1].versionInfo", 2, "$.packages[1].versionInfo: must be a string"),
        ("packages[1].checksums[0].algorithm", "SHA-256", "$.packages[1].checksums[0].algorithm: must be one of ADLER32"),
        (
            "packages[1].externalRefs[1].referenceLocator",
            "pkg:",
            "$.packages[1].externalRefs[1].referenceLocator: not a package URL",
        ),
        ("packages[1].externalRefs[0].referenceCategory", "WEB", "$.packages[1].externalRefs[0].referenceCategory: must be"),
        (
            "relationships[1].relatedSpdxElement",
            "SPDXRef-Nope",
            "$.relationships[1].relatedSpdxElement: must name an element",
        ),
        (
            "relationships[1].relationshipType",
            "HAS",
            "$.relationships[1].relationshipType: is not an SPDX 2.3 relationship type",
        ),
        ("relationships[0].relationshipType", "CONTAINS", "$.relationships: no SPDXRef-DOCUMENT DESCRIBES relationship"),
        ("packages", {}, "$.packages: must be a list"),
    ],
)
def test_invalid_spdx_is_refused_naming_the_path(path: str, value: Any, expected: str) -> None:
    message = refused(broken(path, value))
    prefix = "" if path == "spdxVersion" else "not a valid SPDX 2.3 document: "
    assert message.startswith(prefix + expected), message
    assert message.endswith(f"({ACCEPTED})")


def generated() -> SbomDocument:
    packages = [
        Package("maven", "log4j-core", "2.14.1", "org.apache.logging.log4j"),
        Package("npm", "core", "17.0.0", "@angular"),
        Package("deb", "libc6", "2.36-9+deb12u4", "debian", (("arch", "amd64"), ("distro", "debian-12"))),
        Package("pypi", "django-rest", "3.0"),
    ]
    subject = Subject(name="shop", version="1.0", digest="sha256:" + "cd" * 32, container=False, purl=None)
    return build(subject, packages, now=NOW)


def test_generated_cyclonedx_reads_back_to_the_same_components() -> None:
    doc = generated()
    assert set(read_sbom(doc.raw).components) == set(doc.components)


def test_spdx_export_round_trip() -> None:
    doc = generated()
    exported = to_spdx(doc, namespace="https://hoist.example/spdx/shop/1.0/cdcd", now=NOW)
    assert to_spdx(doc, namespace="https://hoist.example/spdx/shop/1.0/cdcd", now=NOW) == exported  # deterministic
    back = read_sbom(exported)
    assert back.format is SbomFormat.SPDX
    assert set(back.components) == set(doc.components)

    document = json.loads(exported)
    assert document["spdxVersion"] == "SPDX-2.3" and document["dataLicense"] == "CC0-1.0"
    assert document["creationInfo"]["creators"] == ["Tool: hoist-0.1.0"]
    assert document["creationInfo"]["created"] == "2026-03-01T12:00:00Z"
    assert document["documentNamespace"] == "https://hoist.example/spdx/shop/1.0/cdcd"
    root, *packages = document["packages"]
    assert (root["name"], root["versionInfo"], root["primaryPackagePurpose"]) == ("shop", "1.0", "APPLICATION")
    assert root["checksums"] == [{"algorithm": "SHA256", "checksumValue": "cd" * 32}]
    assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.\-]+", p["SPDXID"]) for p in document["packages"])
    assert all(p["downloadLocation"] == "NOASSERTION" for p in packages)
    log4j = next(p for p in packages if p["name"] == "log4j-core")
    assert log4j["versionInfo"] == "2.14.1"
    assert log4j["externalRefs"] == [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        }
    ]
    relationships = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in document["relationships"]}
    assert relationships == {("SPDXRef-DOCUMENT", "DESCRIBES", root["SPDXID"])} | {
        (root["SPDXID"], "CONTAINS", p["SPDXID"]) for p in packages
    }


def test_spdx_export_of_a_supplied_sbom_without_subject_and_with_nested_components() -> None:
    supplied = read(
        cyclonedx(
            components=[
                {
                    "type": "library",
                    "name": "a",
                    "version": "1",
                    "components": [{"type": "library", "name": "b", "version": "2"}],
                },
                {"type": "library", "name": "a", "version": "1", "purl": "pkg:npm/a@1"},
            ]
        )
    )
    document = json.loads(to_spdx(supplied, namespace="urn:uuid:1b4e28ba-2fa1-11d2-883f-0016a4f8d16f", now=NOW))
    ids = {
        p["name"] + "@" + p["versionInfo"] + ("+purl" if "externalRefs" in p else ""): p["SPDXID"]
        for p in document["packages"][1:]
    }
    subject = document["packages"][0]
    assert (subject["name"], subject["primaryPackagePurpose"]) == ("unnamed-subject", "OTHER")
    assert len(set(ids.values())) == 3
    relationships = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in document["relationships"]}
    assert relationships == {
        ("SPDXRef-DOCUMENT", "DESCRIBES", subject["SPDXID"]),
        (subject["SPDXID"], "CONTAINS", ids["a@1"]),
        (subject["SPDXID"], "CONTAINS", ids["a@1+purl"]),
        (ids["a@1"], "CONTAINS", ids["b@2"]),
    }
    assert document["name"] == "sbom"
    assert set(read_sbom(json.dumps(document).encode()).components) == set(supplied.components)


def test_spdx_export_refuses_a_bad_namespace_and_passes_spdx_through() -> None:
    doc = generated()
    for namespace in ("relative/path", "https://x.example/doc#part", ""):
        with pytest.raises(InvalidInput, match="namespace"):
            to_spdx(doc, namespace=namespace, now=NOW)
    supplied = read(spdx())
    assert to_spdx(supplied, namespace="https://ignored.example", now=NOW) == supplied.raw


def test_read_does_not_change_the_supplied_document() -> None:
    document = cyclonedx(components=many(200))
    before = copy.deepcopy(document)
    read(document)
    assert document == before
