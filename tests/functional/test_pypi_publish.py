"""Publishing with twine's upload API at /pypi/<registry>/, and what a registry's index then shows."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain.errors import Denied
from hoist.metadata.sql.store import SqlMetadataStore
from tests import pypi_files
from tests.functional.helpers import row_counts
from tests.functional.pypi_helpers import AUDITOR, events, fetch, project, pypi_as, upload

__all__ = ["pypi_as"]  # the fixture

WHEEL = pypi_files.wheel("shop-utils", "1.4.0")
SDIST = pypi_files.sdist("shop-utils", "1.4.0")
LIAR = pypi_files.wheel("shop-utils", "1.4.0", inside=pypi_files.metadata("evil", "1.4.0"))
WHL_NAME, SDIST_NAME = "shop_utils-1.4.0-py3-none-any.whl", "shop_utils-1.4.0.tar.gz"

PypiAs = Callable[[str], httpx.Client]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_ci_robot_publishes_a_wheel_and_an_sdist_into_dev(pypi_as: PypiAs, client_as: Callable[..., HoistClient]) -> None:
    ci = pypi_as("ci")
    assert upload(ci, "dev", WHEEL, WHL_NAME, "shop-utils", "1.4.0").status_code == 200
    assert upload(ci, "dev", SDIST, SDIST_NAME, "Shop.Utils", "1.4.0").status_code == 200
    page = project(ci, "dev", "shop-utils")
    assert page["name"] == "shop-utils" and page["versions"] == ["1.4.0"]
    files = {f["filename"]: f for f in page["files"]}
    assert set(files) == {WHL_NAME, SDIST_NAME}
    assert files[WHL_NAME]["hashes"] == {"sha256": sha256(WHEEL)} and files[WHL_NAME]["size"] == len(WHEEL)
    assert files[WHL_NAME]["requires-python"] == ">=3.8"
    metadata = pypi_files.metadata("shop-utils", "1.4.0")
    assert files[WHL_NAME]["core-metadata"] == {"sha256": sha256(metadata)}
    assert files[SDIST_NAME]["core-metadata"] is False  # only a wheel's metadata is final (PEP 658)
    assert fetch(ci, "dev", "shop-utils", files[WHL_NAME]["url"]).content == WHEEL
    assert fetch(ci, "dev", "shop-utils", files[WHL_NAME]["url"] + ".metadata").content == metadata
    pushes = events(client_as(*AUDITOR), "artifact:push")
    assert pushes and {e["actor"] for e in pushes} == {"ci"} and all(e["package"] == "pypi/shop-utils" for e in pushes)


def test_the_same_file_again_is_a_no_op_other_bytes_are_refused(pypi_as: PypiAs, metadata: SqlMetadataStore) -> None:
    ci = pypi_as("ci")
    assert upload(ci, "dev", WHEEL, WHL_NAME, "shop-utils", "1.4.0").status_code == 200
    before = row_counts(metadata)
    assert upload(ci, "dev", WHEEL, WHL_NAME, "shop-utils", "1.4.0").status_code == 200
    assert row_counts(metadata) == before
    other = pypi_files.wheel("shop-utils", "1.4.0", module="changed")
    r = upload(ci, "dev", other, WHL_NAME, "shop-utils", "1.4.0")
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/plain"), r.text
    assert row_counts(metadata) == before


def test_a_direct_publish_into_prod_is_refused_and_audited(
    pypi_as: PypiAs, client_as: Callable[..., HoistClient], metadata: SqlMetadataStore
) -> None:
    rel, ci, auditor = pypi_as("rel"), pypi_as("ci"), client_as(*AUDITOR)
    before = row_counts(metadata)
    for who in (rel, ci):
        r = upload(who, "prod", WHEEL, WHL_NAME, "shop-utils", "1.4.0")
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/plain"), r.text
        assert "accepts no direct pushes" in r.text and "promote" in r.text
    denials = events(auditor, "access:denied") + events(auditor, "artifact:push-refused")
    assert {"rel", "ci"} <= {e["actor"] for e in denials}
    after = row_counts(metadata)
    assert {k: v for k, v in after.items() if k not in {"audit_events", "audit_head"}} == {
        k: v for k, v in before.items() if k not in {"audit_events", "audit_head"}
    }


def test_an_anonymous_publish_is_refused_before_its_body_is_read(anonymous: httpx.Client) -> None:
    r = upload(anonymous, "dev", WHEEL, WHL_NAME, "shop-utils", "1.4.0")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="hoist"'
    assert r.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("content", "filename", "name", "version", "extra", "status", "says"),
    [
        (WHEEL, WHL_NAME, "shop-utils", "1.4.1", {}, 400, "the form's version '1.4.1'"),
        (WHEEL, WHL_NAME, "other", "1.4.0", {}, 400, "the form's name 'other'"),
        (
            pypi_files.wheel("shop-utils", "1.4.0", inside=pypi_files.metadata("evil", "1.4.0")),
            WHL_NAME,
            "shop-utils",
            "1.4.0",
            {},
            400,
            "Name 'evil'",
        ),
        (WHEEL, WHL_NAME, "shop-utils", "1.4.0", {"sha256_digest": "0" * 64}, 400, "sha256_digest"),
        (WHEEL, WHL_NAME, "shop-utils", "1.4.0", {"md5_digest": "0" * 32}, 400, "md5_digest"),
        (WHEEL, WHL_NAME, "shop-utils", "1.4.0", {"filetype": "sdist"}, 400, "filetype"),
        (WHEEL, "shop_utils-1.4.0.zip", "shop-utils", "1.4.0", {}, 400, "neither a wheel"),
        (WHEEL, "shop_utils-1.4.0+local-py3-none-any.whl", "shop-utils", "1.4.0", {}, 400, "local"),
        (b"not a zip", WHL_NAME, "shop-utils", "1.4.0", {}, 400, "not a readable wheel"),
        (WHEEL, WHL_NAME, "shop-utils", "1.4.0", {":action": "remove_pkg"}, 400, "file_upload"),
    ],
)
def test_bad_uploads_get_a_clear_text_error_and_change_nothing(
    pypi_as: PypiAs,
    metadata: SqlMetadataStore,
    content: bytes,
    filename: str,
    name: str,
    version: str,
    extra: dict[str, str],
    status: int,
    says: str,
) -> None:
    ci = pypi_as("ci")
    before = row_counts(metadata)
    r = upload(ci, "dev", content, filename, name, version, **extra)
    assert (r.status_code, says in r.text) == (status, True), r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert row_counts(metadata) == before


def test_a_body_that_is_not_twines_form_is_refused(pypi_as: PypiAs) -> None:
    ci = pypi_as("ci")
    r = ci.post("/pypi/dev/", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "multipart/form-data" in r.text
    r = ci.post("/pypi/dev/", content=b"--x\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400


def test_an_upload_over_the_size_limit_is_refused(pypi_as: PypiAs, metadata: SqlMetadataStore) -> None:
    ci = pypi_as("ci")
    before = row_counts(metadata)
    big = WHEEL + bytes(9 * 1024 * 1024)  # the test server's limit is 8 MiB
    r = upload(ci, "dev", big, WHL_NAME, "shop-utils", "1.4.0")
    assert r.status_code == 413 and row_counts(metadata) == before


def test_an_unknown_registry_is_a_404(pypi_as: PypiAs) -> None:
    r = upload(pypi_as("ci"), "nowhere", WHEEL, WHL_NAME, "shop-utils", "1.4.0")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")


def test_a_dev_release_may_be_rebuilt_in_dev_a_release_may_not(pypi_as: PypiAs) -> None:
    ci = pypi_as("ci")
    name = "shop_utils-1.5.0.dev3-py3-none-any.whl"
    first, second = (pypi_files.wheel("shop-utils", "1.5.0.dev3", module=m) for m in ("one", "two"))
    assert upload(ci, "dev", first, name, "shop-utils", "1.5.0.dev3").status_code == 200
    assert upload(ci, "dev", second, name, "shop-utils", "1.5.0.dev3").status_code == 200  # a snapshot
    files = {f["filename"]: f for f in project(ci, "dev", "shop-utils")["files"]}
    assert files[name]["hashes"] == {"sha256": sha256(second)}


def test_a_wheel_build_tag_is_hoists_build(pypi_as: PypiAs, client_as: Callable[..., HoistClient]) -> None:
    ci = pypi_as("ci")
    name = "shop_utils-1.4.0-57-py3-none-any.whl"
    assert upload(ci, "dev", WHEEL, name, "shop-utils", "1.4.0").status_code == 200
    page = project(ci, "dev", "shop-utils")
    assert page["versions"] == ["1.4.0"]  # what pip sees: the wheel's version
    assert page["files"][0]["url"] == f"../../files/shop-utils/1.4.0.57/{name}"  # Hoist's: build 57 of 1.4.0
    assert client_as("ci", ["role:ci"]).artifact("pypi/shop-utils@1.4.0.57")["version"] == "1.4.0.57"
    rc = pypi_files.wheel("shop-utils", "1.4.0rc1")
    r = upload(ci, "dev", rc, "shop_utils-1.4.0rc1-3-py3-none-any.whl", "shop-utils", "1.4.0rc1")
    assert r.status_code == 400 and "cannot take a build" in r.text


def test_a_yank_in_prod_takes_the_right_to_promote(pypi_as: PypiAs, client_as: Callable[..., HoistClient]) -> None:
    assert upload(pypi_as("ci"), "dev", WHEEL, WHL_NAME, "shop-utils", "1.4.0").status_code == 200
    ref = "pypi/shop-utils@1.4.0"
    client_as("ci", ["role:ci"]).attest(ref, type="unit-tests", result="pass")
    release = client_as("rel", ["role:release"])
    release.promote(ref, to="prod")
    with pytest.raises(Denied):
        client_as("dev", ["role:developer"]).mark(ref, "yanked", registry="prod", message="no")
    release.mark(ref, "yanked", registry="prod", message="CVE-2026-1")
    ops = pypi_as("ops")
    assert project(ops, "prod", "shop-utils")["files"][0]["yanked"] == "CVE-2026-1"
    assert project(pypi_as("ci"), "dev", "shop-utils")["files"][0]["yanked"] is False  # per registry
    marks = events(client_as(*AUDITOR), "artifact:mark")
    assert [(e["actor"], e["details"]["registry"]) for e in marks] == [("rel", "prod")]
    release.unmark(ref, "yanked", registry="prod")
    assert project(ops, "prod", "shop-utils")["files"][0]["yanked"] is False


def test_bad_mark_requests_are_refused_and_change_nothing(
    pypi_as: PypiAs, client_as: Callable[..., HoistClient], metadata: SqlMetadataStore
) -> None:
    assert upload(pypi_as("ci"), "dev", WHEEL, WHL_NAME, "shop-utils", "1.4.0").status_code == 200
    developer, reader = client_as("dev", ["role:developer"]).http, client_as("ops", ["role:operator"]).http
    audit = {"audit_events", "audit_head"}  # the refusals are recorded there, and nothing else changes
    before = {k: v for k, v in row_counts(metadata).items() if k not in audit}
    digest = f"sha256:{sha256(WHEEL)}"
    for who, path, body, status in [
        (developer, f"pypi/shop-utils@{digest}/marks/yanked", {"registry": "dev"}, 400),  # a digest, not a version
        (developer, "pypi/shop-utils@1.4.0/marks/sunk", {"registry": "dev"}, 400),  # no such mark
        (developer, "pypi/shop-utils@1.4.0/marks/yanked", {"registry": "dev", "message": "x" * 2001}, 400),
        (developer, "pypi/shop-utils@1.4.0/marks/yanked", {"registry": "dev", "extra": 1}, 400),
        (developer, "pypi/shop-utils@9.9.9/marks/yanked", {"registry": "dev"}, 404),
        (developer, "pypi/shop-utils@1.4.0/marks/yanked", {"registry": "nowhere"}, 404),
        (developer, "pypi/shop-utils@1.4.0/marks/yanked", {"registry": "prod"}, 403),  # promote:prod needed
        (reader, "pypi/shop-utils@1.4.0/marks/yanked", {"registry": "dev"}, 403),
    ]:
        r = who.put(f"/api/v1/artifacts/{path}", json=body)
        assert r.status_code == status and r.json()["error"]["message"], (path, r.text)
    assert {k: v for k, v in row_counts(metadata).items() if k not in audit} == before


def test_the_legacy_upload_path_takes_uploads_too(pypi_as: PypiAs) -> None:
    ci = pypi_as("ci")
    data, files = pypi_files.twine_form(WHEEL, WHL_NAME, "shop-utils", "1.4.0")
    assert ci.post("/pypi/dev/legacy/", data=data, files=files).status_code == 200  # PyPI's own upload URL
    assert [f["filename"] for f in project(ci, "dev", "shop-utils")["files"]] == [WHL_NAME]
