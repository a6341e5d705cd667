"""The pure pieces of the npm view: names, paths, publish documents, tarballs, packuments, audit."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from datetime import UTC, datetime

import pytest

from hoist.domain.advisories import Advisory, Affected, Severity
from hoist.domain.errors import InvalidInput, InvalidName, InvalidVersion, NotFound, TooLarge
from hoist.domain.versions import Version
from hoist.formats.npm import audit, documents, names, packuments, paths, tarballs
from hoist.formats.npm.paths import Kind, Target
from tests.npm_documents import entry, publish_document, tarball


@pytest.mark.parametrize("name", ["left-pad", "@acme/ui", "a.b_c-d", "@a-b/c.d", "x" * 214, "-dash"])
def test_npm_names_map_to_format_qualified_keys(name: str) -> None:
    assert names.storage_key(name) == f"npm/{name}"
    assert names.npm_name(names.storage_key(name)) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Upper",
        ".hidden",
        "_under",
        "a b",
        "@acme",
        "@acme/",
        "@/x",
        "a/b",
        "x" * 215,
        "node_modules",
        "caf\u00e9",
        "a%2fb",
    ],
)
def test_names_npm_refuses_are_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        names.storage_key(name)


def test_tarball_names_drop_the_scope_and_give_back_the_version() -> None:
    assert names.tarball_name("@acme/ui", "1.2.0") == "ui-1.2.0.tgz"
    assert names.version_of_tarball("@acme/ui", "ui-1.2.0-rc.1.tgz") == "1.2.0-rc.1"
    with pytest.raises(InvalidName):
        names.version_of_tarball("@acme/ui", "other-1.2.0.tgz")
    with pytest.raises(InvalidVersion):
        names.version_of_tarball("left-pad", "left-pad-1.2.tgz")
    with pytest.raises(InvalidVersion):
        names.npm_version("1.2.0.57")  # Hoist's four-part spelling is not npm's


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("left-pad", Target(Kind.PACKAGE, "left-pad")),
        ("@acme/ui", Target(Kind.PACKAGE, "@acme/ui")),
        ("@acme/ui/-rev/3-abc", Target(Kind.PACKAGE, "@acme/ui", rev="3-abc")),
        ("@acme/ui/-/ui-1.0.0.tgz", Target(Kind.TARBALL, "@acme/ui", file="ui-1.0.0.tgz")),
        ("left-pad/-/left-pad-1.0.0.tgz/-rev/2-x", Target(Kind.TARBALL, "left-pad", file="left-pad-1.0.0.tgz", rev="2-x")),
        ("left-pad/1.0.0", Target(Kind.VERSION, "left-pad", tag="1.0.0")),
        ("@acme/ui/latest", Target(Kind.VERSION, "@acme/ui", tag="latest")),
        ("-/package/@acme/ui/dist-tags", Target(Kind.DIST_TAGS, "@acme/ui")),
        ("-/package/left-pad/dist-tags/beta", Target(Kind.DIST_TAGS, "left-pad", tag="beta")),
        ("-/user/org.couchdb.user:ci-bot", Target(Kind.USER, user="ci-bot")),
        ("-/ping", Target(Kind.PING)),
        ("-/whoami", Target(Kind.WHOAMI)),
        ("-/v1/login", Target(Kind.WEB_LOGIN)),
        ("-/npm/v1/security/advisories/bulk", Target(Kind.AUDIT_BULK)),
        ("-/npm/v1/security/audits/quick", Target(Kind.AUDIT_QUICK)),
    ],
)
def test_paths_name_what_npm_asks_for(path: str, target: Target) -> None:
    assert paths.parse(path) == target


@pytest.mark.parametrize("path", ["-/nope", "-/user/bob", "left-pad/1.0.0/extra", "left-pad/-/a/b.tgz", "-/package/x/tags"])
def test_unknown_paths_are_not_found(path: str) -> None:
    with pytest.raises(NotFound):
        paths.parse(path)


def test_bad_names_in_paths_are_invalid() -> None:
    with pytest.raises(InvalidName):
        paths.parse("Left-Pad")


def test_a_publish_is_decoded_hashed_and_checked_against_its_package_json() -> None:
    data = tarball({"name": "@acme/ui", "version": "1.2.0"})
    doc = publish_document("@acme/ui", "1.2.0", data)
    body = json.dumps(doc).encode()
    read = documents.read_document(body, "@acme/ui")
    assert documents.is_publication(read)
    pub = documents.publication(read, "@acme/ui")
    assert (pub.version, pub.tags) == ("1.2.0", ("latest",))
    assert b"".join(tarballs.decoded(pub.data)) == data
    stored = entry("ui-1.2.0.tgz", data)
    assert tarballs.integrity(stored) == "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert tarballs.shasum(stored) == hashlib.sha1(data, usedforsecurity=False).hexdigest()
    raw, manifest = tarballs.package_json(io.BytesIO(data))
    assert manifest == {"name": "@acme/ui", "version": "1.2.0"} and json.loads(raw) == manifest
    documents.check_package(pub, manifest)
    documents.check_digests(pub, stored)


@pytest.mark.parametrize(
    ("inside", "message"),
    [
        ({"name": "other", "version": "1.2.0"}, "names 'other'"),
        ({"name": "left-pad", "version": "1.3.0"}, "version '1.3.0'"),
        ({"name": "left-pad"}, "version 'None'"),
    ],
)
def test_a_tarball_that_disagrees_with_the_publish_is_refused(inside: dict[str, str], message: str) -> None:
    data = tarball(inside)
    pub = documents.publication(publish_document("left-pad", "1.2.0", data), "left-pad")
    with pytest.raises(InvalidInput, match=message):
        documents.check_package(pub, tarballs.package_json(io.BytesIO(data))[1])


def test_client_digests_that_are_not_those_of_the_bytes_are_refused() -> None:
    data = tarball({"name": "left-pad", "version": "1.2.0"})
    doc = publish_document("left-pad", "1.2.0", data)
    doc["versions"]["1.2.0"]["dist"] = {"shasum": "0" * 40}
    pub = documents.publication(doc, "left-pad")
    with pytest.raises(InvalidInput, match=r"dist\.shasum"):
        documents.check_digests(pub, entry("left-pad-1.2.0.tgz", data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(name="other"), "URL names"),
        (lambda d: d["versions"].update({"1.3.0": {}}), "exactly one version"),
        (lambda d: d["_attachments"].update({"left-pad-1.2.0.sigstore": {}}), "one attachment"),
        (lambda d: d["_attachments"]["left-pad-1.2.0.tgz"].pop("data"), "no base64 data"),
        (lambda d: d["dist-tags"].update(beta="9.9.9"), "points at '9.9.9'"),
        (lambda d: d.update(versions=[]), "not a JSON object"),
    ],
)
def test_malformed_publishes_are_refused_with_a_reason(change: object, message: str) -> None:
    doc = publish_document("left-pad", "1.2.0", tarball({"name": "left-pad", "version": "1.2.0"}))
    change(doc)  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=message):
        documents.publication(documents.read_document(json.dumps(doc).encode(), "left-pad"), "left-pad")


def test_attachments_that_are_not_base64_or_too_large_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not base64"):
        list(tarballs.decoded("not*base64!"))
    with pytest.raises(InvalidInput, match="empty"):
        list(tarballs.decoded(""))
    with pytest.raises(TooLarge):
        list(tarballs.decoded(base64.b64encode(b"x" * 100).decode(), limit=99))


def test_tarballs_without_a_readable_package_json_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"no package\.json"):
        tarballs.package_json(io.BytesIO(tarball(None, extra={"index.js": b""})))
    with pytest.raises(InvalidInput, match="not a gzipped tar"):
        tarballs.package_json(io.BytesIO(b"plain bytes"))
    with pytest.raises(InvalidInput, match="not a JSON object"):
        tarballs.package_json(io.BytesIO(tarball(None, extra={"package.json": b"[]"})))
    assert tarballs.package_json(io.BytesIO(tarball({"name": "x", "version": "1.0.0"}, folder="x")))[1]["name"] == "x"


def test_a_gzip_bomb_is_read_no_further_than_the_cap() -> None:
    bomb = tarball(None, extra={"zeros": b"\0" * 1_000_000, "package.json": b"{}"})
    with pytest.raises(TooLarge):
        tarballs.package_json(io.BytesIO(bomb), unpacked_limit=100_000)


def test_deprecations_come_back_in_the_changed_packument() -> None:
    doc = {"versions": {"1.0.0": {"deprecated": "use 2"}, "1.1.0": {"deprecated": ""}, "2.0.0": {}}}
    changes = documents.changes(doc)
    assert changes.versions == {"1.0.0", "1.1.0", "2.0.0"}
    assert changes.deprecated == {"1.0.0": "use 2", "1.1.0": None}


def _release(version: str, *, sealed: bool = False, day: int = 1, **manifest: object) -> packuments.Release:
    tarball = entry(f"x-{version}.tgz", version.encode())
    return packuments.Release(Version.parse(version), manifest, tarball, datetime(2026, 1, day, tzinfo=UTC), sealed)


def test_one_build_per_version_the_sealed_one_else_the_highest() -> None:
    shown = packuments.one_per_version(
        [_release("1.0.0+3", sealed=True), _release("1.0.0+7"), _release("1.1.0+1"), _release("1.1.0+2"), _release("0.9.0")]
    )
    assert [str(r.version) for r in shown] == ["0.9.0", "1.0.0+3", "1.1.0+2"]
    assert [r.shown for r in shown] == ["0.9.0", "1.0.0", "1.1.0"]


def test_latest_follows_what_the_registry_holds() -> None:
    held = packuments.one_per_version([_release("1.0.0"), _release("1.1.0"), _release("2.0.0-rc.1")])
    assert packuments.dist_tags(held, {}) == {"latest": "1.1.0"}
    assert packuments.dist_tags(held, {"latest": "1.0.0", "next": "2.0.0-rc.1"}) == {"latest": "1.0.0", "next": "2.0.0-rc.1"}
    # tags naming versions not held here (set in dev, not promoted) are not shown
    assert packuments.dist_tags(held, {"latest": "3.0.0", "beta": "3.0.0"}) == {"latest": "1.1.0"}
    assert packuments.dist_tags([_release("2.0.0-rc.1")], {}) == {"latest": "2.0.0-rc.1"}
    assert packuments.dist_tags([], {"latest": "1.0.0"}) == {}


def test_packuments_full_and_abbreviated() -> None:
    held = packuments.one_per_version(
        [
            _release("1.0.0", day=1, description="d", readme="long", deprecated="from the tarball"),
            _release("1.1.0+4", day=2, dependencies={"a": "^1"}, scripts={"postinstall": "x"}),
        ]
    )
    held[0] = packuments.Release(held[0].version, held[0].manifest, held[0].tarball, held[0].published, deprecated="old")

    def url(version: str) -> str:
        return f"http://h/npm/prod/x/-/x-{version}.tgz"

    full = packuments.full("x", held, {}, url)
    assert full["dist-tags"] == {"latest": "1.1.0"}
    assert full["versions"]["1.0.0"]["deprecated"] == "old"
    assert full["versions"]["1.0.0"]["readme"] == "long"
    newest = full["versions"]["1.1.0"]
    assert (newest["_id"], newest["version"], newest["hasInstallScript"]) == ("x@1.1.0", "1.1.0", True)
    assert newest["dist"] == {
        "tarball": url("1.1.0"),
        "integrity": tarballs.integrity(held[1].tarball),
        "shasum": tarballs.shasum(held[1].tarball),
    }
    assert full["time"] == {
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "1.0.0": "2026-01-01T00:00:00.000Z",
        "1.1.0": "2026-01-02T00:00:00.000Z",
    }
    short = packuments.abbreviated("x", held, {}, url)
    assert short["modified"] == "2026-01-02T00:00:00.000Z"
    assert short["versions"]["1.0.0"] == {
        "name": "x",
        "version": "1.0.0",
        "deprecated": "old",
        "dist": full["versions"]["1.0.0"]["dist"],
    }
    assert set(short["versions"]["1.1.0"]) == {"name", "version", "dependencies", "hasInstallScript", "dist"}
    assert full["_rev"] != packuments.full("x", held[:1], {}, url)["_rev"]


def _advisory(*affected: Affected, severity: Severity = Severity.HIGH, raw: object = None) -> Advisory:
    return Advisory(
        "GHSA-xxxx",
        (),
        "Prototype pollution",
        severity,
        7.5,
        datetime(2026, 1, 1, tzinfo=UTC),
        affected,
        json.dumps(raw or {}).encode(),
    )


def _affected(*ranges: dict[str, object], versions: tuple[str, ...] = ()) -> Affected:
    return Affected("npm", "left-pad", None, ranges, versions)


@pytest.mark.parametrize(
    ("affected", "expected"),
    [
        (_affected({"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}), "<1.3.0"),
        (
            _affected(
                {
                    "type": "SEMVER",
                    "events": [
                        {"introduced": "1.0.0"},
                        {"fixed": "1.3.0"},
                        {"introduced": "2.0.0"},
                        {"last_affected": "2.1.0"},
                    ],
                }
            ),
            ">=1.0.0 <1.3.0 || >=2.0.0 <=2.1.0",
        ),
        (_affected({"type": "ECOSYSTEM", "events": [{"introduced": "2.0.0"}]}), ">=2.0.0"),
        (_affected({"type": "GIT", "events": [{"introduced": "abc"}]}, versions=("1.0.1", "1.0.1")), "1.0.1"),
        (_affected(), "*"),
    ],
)
def test_osv_ranges_become_node_semver_ranges(affected: Affected, expected: str) -> None:
    assert audit.vulnerable_versions(affected) == expected


def test_the_bulk_answer_has_npms_shape() -> None:
    affected = _affected({"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]})
    raw = {"database_specific": {"cwe_ids": ["CWE-1321"]}, "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}]}
    answer = audit.bulk([("left-pad", _advisory(affected, severity=Severity.MEDIUM, raw=raw), affected)])
    assert answer == {
        "left-pad": [
            {
                "id": "GHSA-xxxx",
                "url": "https://osv.dev/vulnerability/GHSA-xxxx",
                "title": "Prototype pollution",
                "severity": "moderate",
                "vulnerable_versions": "<1.3.0",
                "cwe": ["CWE-1321"],
                "cvss": {"score": 7.5, "vectorString": "CVSS:3.1/AV:N"},
            }
        ]
    }


def test_audit_requests_plain_and_gzipped() -> None:
    body = json.dumps({"left-pad": ["1.0.0"], "@acme/ui": ["2.0.0", "2.1.0"]}).encode()
    assert audit.read_request(body, None) == audit.read_request(gzip.compress(body), "gzip")
    with pytest.raises(InvalidInput, match="not gzip"):
        audit.read_request(b"\x1f\x8bbroken", "gzip")
    with pytest.raises(InvalidInput, match="version strings"):
        audit.read_request(b'{"left-pad": "1.0.0"}', None)
    with pytest.raises(TooLarge):
        audit.read_request(gzip.compress(b" " * (audit.MAX_REQUEST_BYTES + 10)), "gzip")
