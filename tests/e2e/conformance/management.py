"""The Content Management workflow (04_management_test.go): manifest, tag and blob DELETE."""

from __future__ import annotations

from tests.e2e.conformance.setup import TAG
from tests.e2e.conformance.suite import Suite, check, expect

# Content Management -------------------------------------------------------------------------------

MANAGEMENT = "Content Management"


@check(MANAGEMENT, "Setup", "Populate registry with test config blob")
def _(s: Suite) -> None:
    expect(s.upload(s.data.configs[3]), "2xx")


@check(MANAGEMENT, "Setup", "Populate registry with test layer")
def _(s: Suite) -> None:
    expect(s.upload(s.data.layer), "2xx")


@check(MANAGEMENT, "Setup", "Populate registry with test tag")
def _(s: Suite) -> None:
    s.tag = TAG
    expect(s.put_manifest(s.tag, s.data.manifests[3]), "2xx")


@check(MANAGEMENT, "Setup", "Check how many tags there are before anything gets deleted")
def _(s: Suite) -> None:
    s.num_tags = len(s.tag_list())


@check(
    MANAGEMENT,
    "Manifest delete",
    "DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)",
)
def _(s: Suite) -> None:
    r = s.request("DELETE", f"/v2/<name>/manifests/{s.tag}")
    expect(r, 400, 202, 405)
    if r.status_code == 400:
        assert r.json()["errors"][0]["code"] == "UNSUPPORTED"


@check(MANAGEMENT, "Manifest delete", "DELETE request to manifest (digest) should yield 202 response unless already deleted")
def _(s: Suite) -> None:
    expect(s.request("DELETE", f"/v2/<name>/manifests/{s.data.manifests[3].digest}"), 202, 404)


@check(
    MANAGEMENT,
    "Manifest delete",
    "GET request to deleted manifest URL should yield 404 response, unless delete is disallowed",
)
def _(s: Suite) -> None:
    expect(s.request("GET", f"/v2/<name>/manifests/{s.data.manifests[3].digest}"), 404, 200)


@check(MANAGEMENT, "Manifest delete", "GET request to tags list should reflect manifest deletion")
def _(s: Suite) -> None:
    assert len(s.tag_list()) < s.num_tags


@check(MANAGEMENT, "Blob delete", "DELETE request to blob URL should yield 202 response")
def _(s: Suite) -> None:
    expect(s.request("DELETE", f"/v2/<name>/blobs/{s.data.configs[3].digest}"), 202, 404, 405)
    r = s.request("DELETE", f"/v2/<name>/blobs/{s.data.layer.digest}")
    expect(r, 202, 404, 405)
    s.blob_delete_allowed = r.status_code != 405


@check(MANAGEMENT, "Blob delete", "GET request to deleted blob URL should yield 404 response")
def _(s: Suite) -> None:
    # RunOnlyIf(blobDeleteAllowed): dev allows deletes, so the delete above must have been allowed
    assert s.blob_delete_allowed, "blob delete answered 405 in a registry that allows deletes"
    expect(s.request("GET", f"/v2/<name>/blobs/{s.data.configs[3].digest}"), 404)
