"""The Content Discovery workflow (03_discovery_test.go): tags lists with n/last, and the referrers
API with its artifactType filter."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conformance.setup import ANNOTATION, ARTIFACT_A, OCI_INDEX, OCI_MANIFEST, TAG
from tests.e2e.conformance.suite import Suite, check, delete_manifests_then_blobs, expect

# Content Discovery --------------------------------------------------------------------------------

DISCOVERY = "Content Discovery"


@check(DISCOVERY, "Setup", "Populate registry with test blob")
def _(s: Suite) -> None:
    expect(s.upload(s.data.configs[2]), "2xx")


@check(DISCOVERY, "Setup", "Populate registry with test layer")
def _(s: Suite) -> None:
    expect(s.upload(s.data.layer), "2xx")


@check(DISCOVERY, "Setup", "Populate registry with test tags")
def _(s: Suite) -> None:
    for i in range(4):
        expect(s.put_manifest(f"test{i}", s.data.manifests[2]), "2xx")
    s.tags = s.tag_list()


@check(DISCOVERY, "Setup", "References setup")
def _(s: Suite) -> None:
    d = s.data
    subject = d.manifests[4].digest
    assert d.empty.digest == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    expect(s.upload(d.empty), "2xx")
    expect(s.upload(d.ref_a), "2xx")  # referrers pushed before their subject
    for m, media_type in ((d.a_config, OCI_MANIFEST), (d.a_layer, OCI_MANIFEST), (d.referrer_index, OCI_INDEX)):
        r = s.put_manifest(m.digest, m, media_type)
        expect(r, "2xx")
        assert r.headers.get("oci-subject") == subject, f"OCI-Subject {r.headers.get('oci-subject')!r}"
    expect(s.upload(d.configs[4]), "2xx")
    expect(s.upload(d.layer), "2xx")
    expect(s.put_manifest(TAG, d.manifests[4]), "2xx")
    expect(s.upload(d.ref_b), "2xx")  # and after it
    for m in (d.b_config, d.b_layer):
        r = s.put_manifest(m.digest, m)
        expect(r, "2xx")
        assert r.headers.get("oci-subject") == subject
    r = s.put_manifest(d.dangling.digest, d.dangling)
    expect(r, "2xx")
    assert r.headers.get("oci-subject") == d.manifests[3].digest


@check(DISCOVERY, "Test content discovery endpoints (listing tags)", "GET request to list tags should yield 200 response")
def _(s: Suite) -> None:
    s.tags = s.tag_list()
    s.num_tags = len(s.tags)


@check(
    DISCOVERY,
    "Test content discovery endpoints (listing tags)",
    "GET number of tags should be limitable by `n` query parameter",
)
def _(s: Suite) -> None:
    wanted = s.num_tags // 2
    s.tags = s.tag_list(n=str(wanted))
    assert len(s.tags) == wanted, s.tags


@check(DISCOVERY, "Test content discovery endpoints (listing tags)", "GET start of tag is set by `last` query parameter")
def _(s: Suite) -> None:
    wanted = s.num_tags // 2
    first = s.tag_list(n=str(wanted))
    after = s.tag_list(n=str(wanted), last=first[wanted - 1])
    assert len(after) <= wanted and first[wanted - 1] not in after and after == sorted(after), after
    assert all(t > first[wanted - 1] for t in after)


def _referrers(s: Suite, digest: str, **params: str) -> tuple[httpx.Response, list[dict[str, Any]]]:
    r = s.request("GET", f"/v2/<name>/referrers/{digest}", params=params)
    expect(r, 200)
    assert r.headers["content-type"] == OCI_INDEX, r.headers["content-type"]
    manifests: list[dict[str, Any]] = r.json()["manifests"]
    return r, manifests


def _annotated(s: Suite, found: list[dict[str, Any]]) -> None:
    for descriptor in found:
        assert descriptor["annotations"] == {ANNOTATION: s.data.annotations[descriptor["digest"]]}, descriptor


@check(
    DISCOVERY,
    "Test content discovery endpoints (listing references)",
    "GET request to nonexistent blob should result in empty 200 response",
)
def _(s: Suite) -> None:
    assert _referrers(s, s.data.dummy)[1] == []


@check(DISCOVERY, "Test content discovery endpoints (listing references)", "GET request to existing blob should yield 200")
def _(s: Suite) -> None:
    found = _referrers(s, s.data.manifests[4].digest)[1]
    assert len(found) == 5 and len({d["digest"] for d in found}) == 5, found
    _annotated(s, found)


@check(
    DISCOVERY,
    "Test content discovery endpoints (listing references)",
    "GET request to existing blob with filter should yield 200",
)
def _(s: Suite) -> None:
    r, found = _referrers(s, s.data.manifests[4].digest, artifactType=ARTIFACT_A)
    # Hoist filters, so the Go suite's other branch (five, and a warning) does not apply
    assert r.headers.get("oci-filters-applied") == "artifactType"
    assert {d["digest"] for d in found} == {s.data.a_config.digest, s.data.a_layer.digest}, found
    _annotated(s, found)


@check(
    DISCOVERY, "Test content discovery endpoints (listing references)", "GET request to missing manifest should yield 200"
)
def _(s: Suite) -> None:
    found = _referrers(s, s.data.manifests[3].digest)[1]
    assert [d["digest"] for d in found] == [s.data.dangling.digest], found


def _discovery_teardown_manifests(s: Suite) -> None:
    d = s.data
    for reference in (
        d.referrer_index.digest, d.manifests[2].digest, d.manifests[4].digest, d.a_config.digest, d.a_layer.digest,
        TAG, d.b_config.digest, d.b_layer.digest, d.dangling.digest,
    ):  # fmt: skip
        s.delete("manifests", reference, "2xx", 404, 405)


def _references_teardown(s: Suite) -> None:
    for blob in (s.data.configs[4], s.data.ref_a, s.data.ref_b, s.data.empty):
        s.delete("blobs", blob.digest, "2xx", 404, 405)


delete_manifests_then_blobs(
    DISCOVERY,
    _discovery_teardown_manifests,
    [
        ("Delete config blob created in tests", lambda s: s.delete("blobs", s.data.configs[2].digest, "2xx", 405)),
        ("Delete layer blob created in setup", lambda s: s.delete("blobs", s.data.layer.digest, "2xx", 405)),
        ("References teardown", _references_teardown),
    ],
)
