"""The simple index and file downloads at /pypi/<registry>/: negotiation, redirects, promotion, yanks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoist.cli.context import Cli
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.formats.pypi import simple
from tests import pypi_files
from tests.functional.pypi_helpers import AUDITOR, events, fetch, project, pypi_as, upload

__all__ = ["pypi_as"]  # the fixture

PypiAs = Callable[[str], httpx.Client]
WHEEL = pypi_files.wheel("shop-utils", "1.4.0")
WHL_NAME = "shop_utils-1.4.0-py3-none-any.whl"
REF = "pypi/shop-utils@1.4.0"


@pytest.fixture
def published(pypi_as: PypiAs) -> httpx.Client:
    ci = pypi_as("ci")
    assert upload(ci, "dev", WHEEL, WHL_NAME, "shop-utils", "1.4.0").status_code == 200
    return ci


def promote(client_as: Callable[..., HoistClient], ci: HoistClient) -> None:
    ci.attest(REF, type="unit-tests", result="pass")
    client_as("rel", ["role:release"]).promote(REF, to="prod")


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "text/html"),
        ("text/html", "text/html"),
        (simple.HTML, simple.HTML),
        (simple.JSON, simple.JSON),
        ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01", simple.JSON),
    ],
)
def test_both_renderings_by_content_negotiation(published: httpx.Client, accept: str | None, content_type: str) -> None:
    headers = {"Accept": accept} if accept else {}
    for path in ("/pypi/dev/simple/", "/pypi/dev/simple/shop-utils/"):
        r = published.get(path, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == content_type
        assert "accept" in r.headers["vary"].lower()
    listed = published.get("/pypi/dev/simple/", headers={"Accept": simple.JSON}).json()
    assert listed == {"meta": {"api-version": "1.1"}, "projects": [{"name": "shop-utils"}]}
    html = published.get("/pypi/dev/simple/shop-utils/").text
    assert f'#sha256={hashlib.sha256(WHEEL).hexdigest()}"' in html and 'data-requires-python="&gt;=3.8"' in html


def test_an_unacceptable_accept_is_a_406(published: httpx.Client) -> None:
    r = published.get("/pypi/dev/simple/shop-utils/", headers={"Accept": "application/xml"})
    assert r.status_code == 406 and r.headers["content-type"].startswith("text/plain")


def test_a_name_that_is_not_normalised_redirects(published: httpx.Client) -> None:
    r = published.get("/pypi/dev/simple/Shop_Utils/")
    assert r.status_code == 301 and r.headers["location"].endswith("/pypi/dev/simple/shop-utils/")
    for path in ("/pypi/dev/simple/shop-utils", "/pypi/dev/simple/Shop.Utils"):
        r = published.get(path)
        assert r.status_code == 301 and r.headers["location"] == "/pypi/dev/simple/shop-utils/"
    assert published.get("/pypi/dev/simple").headers["location"] == "/pypi/dev/simple/"
    assert published.get("/pypi/dev/simple/bad name!/").status_code == 400


def test_unknown_projects_and_files_are_404s(published: httpx.Client) -> None:
    for path in (
        "/pypi/dev/simple/nothing-here/",
        "/pypi/nowhere/simple/",
        "/pypi/dev/files/shop-utils/1.4.0/shop_utils-1.4.0.tar.gz",
        "/pypi/dev/files/shop-utils/9.9.9/shop_utils-9.9.9-py3-none-any.whl",
        "/pypi/dev/simple/a%2Fb/",
        "/pypi/dev/nothing/here",
    ):
        r = published.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain"), path


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/pypi/dev/files/shop-utils/not-a-version/x.whl", "not a PEP 440 version"),
        ("/pypi/dev/files/Bad%20Name/1.4.0/x.whl", "not a valid Python package name"),
        ("/pypi/dev/files/shop-utils/1.4.0+local/x.whl", "local version"),
    ],
)
def test_bad_download_paths_are_400s_in_text(published: httpx.Client, path: str, says: str) -> None:
    r = published.get(path)
    assert r.status_code == 400 and says in r.text and r.headers["content-type"].startswith("text/plain")


def test_an_anonymous_reader_is_asked_for_basic_credentials(published: httpx.Client, anonymous: httpx.Client) -> None:
    r = anonymous.get("/pypi/dev/simple/shop-utils/")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="hoist"'


def test_other_formats_do_not_show_in_the_index(
    published: httpx.Client, client_as: Callable[..., HoistClient], tmp_path: Path
) -> None:
    from tests.functional.helpers import push

    push(client_as("ci", ["role:ci"]), tmp_path, package="shop-api", version="1.0.0")
    assert project(published, "dev", "shop-utils")["name"] == "shop-utils"
    assert published.get("/pypi/dev/simple/", headers={"Accept": simple.JSON}).json()["projects"] == [{"name": "shop-utils"}]
    assert published.get("/pypi/dev/simple/shop-api/").status_code == 404


def test_downloads_serve_the_bytes_with_ranges_and_head(published: httpx.Client) -> None:
    url = project(published, "dev", "shop-utils")["files"][0]["url"]
    whole = fetch(published, "dev", "shop-utils", url)
    assert whole.status_code == 200 and whole.content == WHEEL
    base = httpx.URL("http://hoist.test/pypi/dev/simple/shop-utils/").join(url)
    assert published.head(base).headers["content-length"] == str(len(WHEEL))
    part = published.get(base, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == WHEEL[:10]


def test_a_reader_sees_only_registries_it_may_read(published: httpx.Client, pypi_as: PypiAs) -> None:
    ops = pypi_as("ops")  # reads prod only
    assert ops.get("/pypi/dev/simple/shop-utils/").status_code in {403, 404}
    assert ops.get("/pypi/prod/simple/shop-utils/").status_code == 404


def test_promotion_shows_the_same_files_in_prod_at_once(
    published: httpx.Client, pypi_as: PypiAs, client_as: Callable[..., HoistClient]
) -> None:
    ops = pypi_as("ops")
    assert ops.get("/pypi/prod/simple/shop-utils/").status_code == 404
    promote(client_as, client_as("ci", ["role:ci"]))
    dev, prod = project(published, "dev", "shop-utils"), project(ops, "prod", "shop-utils")
    assert [f["hashes"] for f in prod["files"]] == [f["hashes"] for f in dev["files"]]
    assert [f["url"] for f in prod["files"]] == [f["url"] for f in dev["files"]]  # one relative path everywhere
    head = fetch(ops, "prod", "shop-utils", prod["files"][0]["url"], method="HEAD")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(WHEEL))
    assert events(client_as(*AUDITOR), "artifact:download") == []  # a HEAD takes no bytes: not a download
    assert fetch(ops, "prod", "shop-utils", prod["files"][0]["url"]).content == WHEEL
    downloads = events(client_as(*AUDITOR), "artifact:download")
    assert len(downloads) == 1 and downloads[-1]["actor"] == "ops"
    # a sealed version takes no new files
    sdist = pypi_files.sdist("shop-utils", "1.4.0")
    r = upload(published, "dev", sdist, "shop_utils-1.4.0.tar.gz", "shop-utils", "1.4.0")
    assert r.status_code == 409 and "sealed in prod" in r.text


def test_yank_and_unyank_through_the_cli(
    published: httpx.Client, client_as: Callable[..., HoistClient], pypi_as: PypiAs
) -> None:
    developer = client_as("dev", ["role:developer"])

    def hoist(who: HoistClient, *args: str) -> tuple[int, str]:
        done = CliRunner().invoke(cli, list(args), obj=Cli(_client=who, progress=False), catch_exceptions=False)
        return done.exit_code, done.output

    code, out = hoist(developer, "yank", "shop-utils@1.4.0", "--registry", "dev", "--reason", "broken <build>")
    assert code == 0 and "yanked pypi/shop-utils@1.4.0 in dev: broken <build>" in out
    page = project(published, "dev", "shop-utils")
    assert page["files"][0]["yanked"] == "broken <build>"
    assert 'data-yanked="broken &lt;build&gt;"' in published.get("/pypi/dev/simple/shop-utils/").text
    code, out = hoist(developer, "unyank", "pypi/shop-utils@1.4.0", "--registry", "dev", "--json")
    assert code == 0 and json.loads(out)
    assert project(published, "dev", "shop-utils")["files"][0]["yanked"] is False
    # a reader may not yank
    code, _ = hoist(client_as("ops", ["role:operator"]), "yank", "shop-utils@1.4.0", "--registry", "dev")
    assert code != 0
