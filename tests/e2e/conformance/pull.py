"""The Pull workflow (01_pull_test.go), plus the Range checks issue 12 asks of blob GETs."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.conformance.setup import ERROR_CODES, NONEXISTENT_MANIFEST, OCI_MANIFEST, TAG
from tests.e2e.conformance.suite import Suite, check, delete_manifests_then_blobs, expect

# Pull ---------------------------------------------------------------------------------------------

PULL = "Pull"


@check(PULL, "Setup", "Populate registry with test blob config[0]")
def _(s: Suite) -> None:
    expect(s.upload(s.data.configs[0]), "2xx")


@check(PULL, "Setup", "Populate registry with test blob config[1]")
def _(s: Suite) -> None:
    expect(s.upload(s.data.configs[1]), "2xx")


@check(PULL, "Setup", "Populate registry with test layer")
def _(s: Suite) -> None:
    expect(s.upload(s.data.layer), "2xx")


@check(PULL, "Setup", "Populate registry with test manifest[0] (tag)")
def _(s: Suite) -> None:
    s.tag = TAG
    expect(s.put_manifest(s.tag, s.data.manifests[0]), "2xx")


@check(PULL, "Setup", "Populate registry with test manifest[1] (digest)")
def _(s: Suite) -> None:
    expect(s.put_manifest(s.data.manifests[1].digest, s.data.manifests[1]), "2xx")


@check(PULL, "Pull blobs", "HEAD request to nonexistent blob should result in 404 response")
def _(s: Suite) -> None:
    expect(s.request("HEAD", f"/v2/<name>/blobs/{s.data.dummy}"), 404)


@check(PULL, "Pull blobs", "HEAD request to existing blob should yield 200")
def _(s: Suite) -> None:
    r = s.request("HEAD", f"/v2/<name>/blobs/{s.data.configs[0].digest}")
    expect(r, 200)
    assert r.headers.get("docker-content-digest", s.data.configs[0].digest) == s.data.configs[0].digest


@check(PULL, "Pull blobs", "GET nonexistent blob should result in 404 response")
def _(s: Suite) -> None:
    expect(s.request("GET", f"/v2/<name>/blobs/{s.data.dummy}"), 404)


@check(PULL, "Pull blobs", "GET request to existing blob URL should yield 200")
def _(s: Suite) -> None:
    r = s.request("GET", f"/v2/<name>/blobs/{s.data.configs[0].digest}")
    expect(r, 200)
    assert r.content == s.data.configs[0].content


@check(PULL, "Pull blobs", "GET with one satisfiable Range should yield 206 and those bytes")
def _(s: Suite) -> None:
    r = s.request("GET", f"/v2/<name>/blobs/{s.data.layer.digest}", headers={"Range": "bytes=0-9"})
    expect(r, 206)
    assert r.content == s.data.layer.content[:10]
    assert r.headers["content-range"] == f"bytes 0-9/{len(s.data.layer.content)}"


@check(PULL, "Pull blobs", "GET with Range bytes=500-0 should yield 416 (or 200 with the whole blob), never 400")
def _(s: Suite) -> None:
    assert len(s.data.layer.content) > 500  # a range that starts inside the blob but ends before it starts
    r = s.request("GET", f"/v2/<name>/blobs/{s.data.layer.digest}", headers={"Range": "bytes=500-0"})
    expect(r, 416, 200)
    if r.status_code == 200:
        assert r.content == s.data.layer.content
    else:
        assert r.headers["content-range"] == f"bytes */{len(s.data.layer.content)}"


@check(PULL, "Pull manifests", "HEAD request to nonexistent manifest should return 404")
def _(s: Suite) -> None:
    expect(s.request("HEAD", f"/v2/<name>/manifests/{NONEXISTENT_MANIFEST}"), 404)


def _pull_manifest(method: str, which: int | None) -> Callable[[Suite], None]:
    """GET or HEAD manifests[which] by digest, or (None) manifests[0] by the tag the setup pushed."""

    def run(s: Suite) -> None:
        assert which is not None or s.tag, "the setup set no tag"
        digest = s.data.manifests[which or 0].digest
        reference = digest if which is not None else s.tag
        r = s.request(method, f"/v2/<name>/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
        expect(r, 200)
        assert r.headers.get("docker-content-digest", digest) == digest

    return run


def _nonexistent_manifest(s: Suite) -> None:
    expect(s.request("GET", f"/v2/<name>/manifests/{NONEXISTENT_MANIFEST}"), 404)


for _method in ("HEAD", "GET"):
    if _method == "GET":
        check(PULL, "Pull manifests", "GET nonexistent manifest should return 404")(_nonexistent_manifest)
    for _i in (0, 1):
        _name = f"{_method} request to manifest[{_i}] path (digest) should yield 200 response"
        check(PULL, "Pull manifests", _name)(_pull_manifest(_method, _i))
    _name = f"{_method} request to manifest path (tag) should yield 200 response"
    check(PULL, "Pull manifests", _name)(_pull_manifest(_method, None))


@check(PULL, "Error codes", "400 response body should contain OCI-conforming JSON message")
def _(s: Suite) -> None:
    r = s.request(
        "GET",
        "/v2/<name>/manifests/sha256:totallywrong",
        content=b"blablabla",
        headers={"Content-Type": OCI_MANIFEST},
    )
    expect(r, 400, 404)
    if r.status_code == 400:
        errors = r.json()["errors"]
        assert errors and errors[0]["code"] in ERROR_CODES, errors


def _pull_teardown_manifests(s: Suite) -> None:
    for m in s.data.manifests[:2]:
        s.delete("manifests", m.digest, "2xx", 405)


delete_manifests_then_blobs(
    PULL,
    _pull_teardown_manifests,
    [
        ("Delete config[0] blob created in setup", lambda s: s.delete("blobs", s.data.configs[0].digest, "2xx", 404, 405)),
        ("Delete config[1] blob created in setup", lambda s: s.delete("blobs", s.data.configs[1].digest, "2xx", 404, 405)),
        ("Delete layer blob created in setup", lambda s: s.delete("blobs", s.data.layer.digest, "2xx", 404, 405)),
    ],
)
