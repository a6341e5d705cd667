"""The PyPI view's wire pieces: names, distribution files, twine's upload form, the simple API."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from hoist.domain.errors import DigestMismatch, InvalidInput, InvalidName, InvalidVersion, TooLarge
from hoist.formats.pypi import distributions, simple, upload
from hoist.formats.pypi.distributions import check_agrees, parse_filename, read_metadata
from hoist.formats.pypi.names import normalise, pep440, storage_key
from tests import pypi_files

# --- names and versions


@pytest.mark.parametrize(
    ("name", "key"),
    [("Django", "pypi/django"), ("zope.interface", "pypi/zope-interface"), ("A__b-.C", "pypi/a-b-c"), ("x", "pypi/x")],
)
def test_names_are_normalised_per_pep_503(name: str, key: str) -> None:
    assert storage_key(name) == key


@pytest.mark.parametrize("name", ["", "-a", "a-", "a b", "a/b", "ä", "../x", "a" * 300])
def test_invalid_project_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        normalise(name)


def test_versions_are_pep_440_without_local_labels() -> None:
    assert str(pep440("1.0.0-RC1")) == "1.0.0rc1"
    with pytest.raises(InvalidVersion, match="local"):
        pep440("1.0+ubuntu1")
    with pytest.raises(InvalidVersion):
        pep440("not a version")


# --- distribution file names


def test_wheel_names_parse_with_and_without_a_build_tag() -> None:
    plain = parse_filename("Shop_Utils-1.4.0-py3-none-any.whl")
    assert (plain.project, str(plain.version), plain.build, plain.kind) == ("shop-utils", "1.4.0", None, "bdist_wheel")
    tagged = parse_filename("shop_utils-1.4.0-57-py3-none-any.whl")
    assert tagged.build == 57
    assert tagged.metadata_name == "shop_utils-1.4.0-57-py3-none-any.whl.metadata"


@pytest.mark.parametrize(
    ("filename", "version"),
    [
        ("shop-1.4.0-py3-none-any.whl", "1.4.0"),
        ("shop-1.4.0-57-py3-none-any.whl", "1.4.0.57"),  # the build tag is Hoist's build
        ("shop-1.4.0.57.tar.gz", "1.4.0.57"),  # so is a fourth release number (the design's X.Y.Z.Build)
        ("shop-1.4.0rc1.tar.gz", "1.4.0rc1"),
        ("shop-1.4.0.dev3-py3-none-any.whl", "1.4.0.dev3"),
    ],
)
def test_each_file_names_the_hoist_version_it_joins(filename: str, version: str) -> None:
    assert str(parse_filename(filename).hoist_version) == version


@pytest.mark.parametrize(
    "filename", ["shop-1.4-3-py3-none-any.whl", "shop-1.4.0rc1-3-py3-none-any.whl", "shop-1.4.0.1-3-py3-none-any.whl"]
)
def test_a_build_tag_needs_a_plain_release_to_become_hoists_build(filename: str) -> None:
    with pytest.raises(InvalidVersion, match=r"cannot take a build|already has a build"):
        parse_filename(filename).hoist_version  # noqa: B018


def test_sdist_names_parse() -> None:
    dist = parse_filename("shop_utils-1.4.0.dev3.tar.gz")
    assert (dist.project, str(dist.version), dist.kind) == ("shop-utils", "1.4.0.dev3", "sdist")


@pytest.mark.parametrize(
    "filename",
    [
        "shop-1.0.zip",  # legacy sdist
        "shop-1.0-py3.8.egg",
        "shop-1.0-1abc-py3-none-any.whl",  # a build tag that is not a number
        "shop-1.0+local-py3-none-any.whl",
        "shop-1.0+local.tar.gz",
        "shop.tar.gz",
        "shop-x.y-py3-none-any.whl",
        "../shop-1.0.tar.gz",
        "shop-1.0-py3-none-any.whl/x",
        "",
    ],
)
def test_bad_file_names_are_refused(filename: str) -> None:
    with pytest.raises(InvalidInput):
        parse_filename(filename)


# --- core metadata read from the file


def test_core_metadata_is_read_from_a_wheel_and_an_sdist() -> None:
    whl = parse_filename("shop_utils-1.4.0-py3-none-any.whl")
    meta = read_metadata(whl, io.BytesIO(pypi_files.wheel("shop-utils", "1.4.0")))
    assert (meta.name, str(meta.version), meta.requires_python) == ("shop-utils", "1.4.0", ">=3.8")
    assert meta.raw == pypi_files.metadata("shop-utils", "1.4.0")
    sd = parse_filename("shop_utils-1.4.0.tar.gz")
    meta = read_metadata(
        sd, io.BytesIO(pypi_files.sdist("shop-utils", "1.4.0", inside=pypi_files.metadata("shop-utils", "1.4", None)))
    )
    assert (meta.name, str(meta.version), meta.requires_python) == ("shop-utils", "1.4", None)


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("shop-1.0-py3-none-any.whl", b"not a zip", "not a readable wheel"),
        ("shop-1.0.tar.gz", b"not gzip", "not a readable sdist"),
        ("shop-1.0-py3-none-any.whl", pypi_files.wheel("shop", "1.0", inside=b"Name: shop\n\n"), "no Name or no Version"),
        ("shop-1.0.tar.gz", pypi_files.sdist("shop", "1.0", inside=b"Version: 1.0\n"), "no Name or no Version"),
    ],
)
def test_unreadable_files_are_refused(filename: str, data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_metadata(parse_filename(filename), io.BytesIO(data))


def test_a_wheel_without_metadata_is_refused() -> None:
    out = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(out, "w") as z:
        z.writestr("shop/__init__.py", b"")
    with pytest.raises(InvalidInput, match="exactly one"):
        read_metadata(parse_filename("shop-1.0-py3-none-any.whl"), io.BytesIO(out.getvalue()))


def test_file_name_form_and_metadata_must_agree() -> None:
    dist = parse_filename("shop-1.0-py3-none-any.whl")
    good = distributions.parse_metadata(pypi_files.metadata("Shop", "1.0.0"), dist.filename)
    check_agrees(dist, good, "SHOP", "1.0", "bdist_wheel")  # equal once normalised
    liar = distributions.parse_metadata(pypi_files.metadata("other", "2.0"), dist.filename)
    with pytest.raises(InvalidInput) as refused:
        check_agrees(dist, liar, "shop", "1.1", "bdist_wheel")
    message = str(refused.value)
    assert "Name 'other'" in message and "Version 2.0" in message and "version '1.1'" in message
    with pytest.raises(InvalidInput, match="filetype"):
        check_agrees(dist, good, "shop", "1.0", "sdist")


# --- twine's upload form


def form(fields: dict[str, str], content: bytes, filename: str = "shop-1.0.tar.gz", boundary: str = "xYzZy") -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def parse(
    body: bytes, chunk: int = 7, content_type: str = "multipart/form-data; boundary=xYzZy"
) -> tuple[upload.UploadForm, bytes]:
    received = bytearray()
    parser = upload.UploadParser(content_type, received.extend)
    for i in range(0, len(body), chunk):
        parser.feed(body[i : i + chunk])
    return parser.finish(), bytes(received)


def digests(content: bytes) -> dict[str, str]:
    return {
        "sha256_digest": hashlib.sha256(content).hexdigest(),
        "md5_digest": hashlib.md5(content).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(content, digest_size=32).hexdigest(),
    }


def test_the_upload_form_streams_content_and_keeps_the_fields() -> None:
    content = bytes(range(256)) * 40 + b"\r\n--xYzZ"  # bytes that look like a boundary's start
    fields = {":action": "file_upload", "name": "shop", "version": "1.0", "classifiers": "A", **digests(content)}
    parsed, received = parse(form(fields, content))
    assert received == content
    assert parsed.filename == "shop-1.0.tar.gz" and parsed.size == len(content)
    assert parsed.require("name") == "shop" and parsed.value(":action") == "file_upload"
    parsed.check_digests(digests(content))
    parsed, _ = parse(form({}, content))
    parsed.check_digests(digests(content))  # a client that sends no digest is not refused


@pytest.mark.parametrize("field", ["sha256_digest", "md5_digest", "blake2_256_digest"])
def test_a_digest_that_is_not_the_contents_is_refused(field: str) -> None:
    parsed, _ = parse(form({field: "00" * 16}, b"payload"))
    with pytest.raises(DigestMismatch, match=field):
        parsed.check_digests(digests(b"payload"))
    parsed, _ = parse(form({field: "é"}, b"payload"))  # not even ASCII: still a clean refusal
    with pytest.raises(DigestMismatch):
        parsed.check_digests(digests(b"payload"))


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"name=shop", "application/x-www-form-urlencoded", "multipart/form-data"),
        (b"", "multipart/form-data", "multipart/form-data"),
        (form({"name": "shop"}, b"x")[:-10], "multipart/form-data; boundary=xYzZy", "ended before"),
        (b'--xYzZy\r\nContent-Disposition: form-data; name="name"\r\n\r\nshop\r\n--xYzZy--\r\n', None, "no 'content'"),
        (form({}, b"x", filename=""), None, "no filename"),
        (form({"name": "\xff"}, b"x").replace("ÿ".encode(), b"\xff"), None, "UTF-8"),
        (b"--xYzZy\r\nX-Other: 1\r\n\r\nshop\r\n--xYzZy--\r\n", None, "Content-Disposition"),
        (b"garbage that is not multipart at all", None, "not valid multipart"),
    ],
)
def test_broken_upload_forms_are_refused(body: bytes, content_type: str | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse(body, content_type=content_type or "multipart/form-data; boundary=xYzZy")


def test_two_content_files_are_refused() -> None:
    one = form({}, b"a")
    two = one.removesuffix(b"--xYzZy--\r\n") + form({}, b"b")
    with pytest.raises(InvalidInput, match="more than one"):
        parse(two)


def test_the_text_fields_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upload, "MAX_FIELD_BYTES", 100)
    with pytest.raises(TooLarge):
        parse(form({"description": "d" * 101}, b"x"))


def test_a_sink_refusal_stops_the_upload() -> None:
    def full(_: bytes) -> None:
        raise TooLarge("over the limit", limit=1)

    parser = upload.UploadParser("multipart/form-data; boundary=xYzZy", full)
    with pytest.raises(TooLarge):
        parser.feed(form({}, b"too many bytes"))


# --- the simple API


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, ("html", "text/html")),
        ("", ("html", "text/html")),
        ("*/*", ("html", "text/html")),
        ("text/html", ("html", "text/html")),
        ("application/vnd.pypi.simple.v1+json", ("json", simple.JSON)),
        ("application/vnd.pypi.simple.latest+json", ("json", simple.JSON)),
        ("application/vnd.pypi.simple.v1+html", ("html", simple.HTML)),
        # pip's header: JSON first
        (
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01",
            ("json", simple.JSON),
        ),
        ("application/vnd.pypi.simple.v1+json; q=0.2, text/html", ("html", "text/html")),
        ("text/html, application/vnd.pypi.simple.v1+json", ("json", simple.JSON)),  # equal q: the specific one
        ("application/vnd.pypi.simple.v1+json;q=0, text/*;q=0.5", ("html", "text/html")),
        ("application/json", None),
        ("text/html; q=0", None),
        ("text/html; q=abc", None),
    ],
)
def test_content_negotiation_follows_pep_691(accept: str | None, expected: tuple[str, str] | None) -> None:
    assert simple.negotiate(accept) == expected


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[dict[str, str | None], str]] = []
        self.meta: dict[str, str | None] = {}
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open = dict(attrs)
        if tag == "meta":
            self.meta = dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.links.append((self._open, data))
            self._open = None


WHEN = datetime(2026, 12, 4, 18, 0, 0, 123456, tzinfo=UTC)


def indexed(
    filename: str, version: str, sha: str, size: int, rp: str | None, meta: str | None, yanked: str | None
) -> simple.IndexFile:
    return simple.IndexFile(filename, f"../../files/shop/{version}/{filename}", sha, size, WHEN, rp, meta, yanked)


FILES = [
    indexed("shop-1.0.tar.gz", "1.0", "a" * 64, 10, '>=3.8,<4 & "x"', None, None),
    indexed("shop-1.0-py3-none-any.whl", "1.0", "b" * 64, 20, None, "c" * 64, "broken <b>"),
    indexed("shop-0.9-py3-none-any.whl", "0.9", "d" * 64, 30, None, None, ""),
]


def test_the_html_project_page_carries_every_pep_attribute() -> None:
    page = Links()
    page.feed(simple.project_page("shop", ["0.9", "1.0"], FILES, "html"))
    assert page.meta == {"name": "pypi:repository-version", "content": "1.1"}
    links = {text: attrs for attrs, text in page.links}
    assert list(links) == sorted(links)
    sdist = links["shop-1.0.tar.gz"]
    assert sdist == {
        "href": "../../files/shop/1.0/shop-1.0.tar.gz#sha256=" + "a" * 64,
        "data-requires-python": '>=3.8,<4 & "x"',
    }
    whl = links["shop-1.0-py3-none-any.whl"]
    assert whl["data-core-metadata"] == whl["data-dist-info-metadata"] == "sha256=" + "c" * 64
    assert whl["data-yanked"] == "broken <b>"
    assert links["shop-0.9-py3-none-any.whl"]["data-yanked"] == ""
    raw = simple.project_page("shop", ["0.9", "1.0"], FILES, "html")
    assert "&lt;b&gt;" in raw and "&lt;4 &amp; &quot;x&quot;" in raw  # escaped, not injected


def test_the_json_project_page_is_api_version_1_1() -> None:
    page = json.loads(simple.project_page("shop", ["0.9", "1.0"], FILES, "json"))
    assert page["meta"] == {"api-version": "1.1"} and page["name"] == "shop" and page["versions"] == ["0.9", "1.0"]
    files = {f["filename"]: f for f in page["files"]}
    assert files["shop-1.0.tar.gz"] == {
        "filename": "shop-1.0.tar.gz",
        "url": "../../files/shop/1.0/shop-1.0.tar.gz",
        "hashes": {"sha256": "a" * 64},
        "size": 10,
        "upload-time": "2026-12-04T18:00:00.123456Z",
        "core-metadata": False,
        "dist-info-metadata": False,
        "yanked": False,
        "requires-python": '>=3.8,<4 & "x"',
    }
    whl = files["shop-1.0-py3-none-any.whl"]
    assert whl["core-metadata"] == whl["dist-info-metadata"] == {"sha256": "c" * 64}
    assert whl["yanked"] == "broken <b>" and "requires-python" not in whl
    assert files["shop-0.9-py3-none-any.whl"]["yanked"] is True


def test_the_project_list_in_both_renderings() -> None:
    page = Links()
    page.feed(simple.project_list(["zope-interface", "django"], "html"))
    assert [(a["href"], t) for a, t in page.links] == [("django/", "django"), ("zope-interface/", "zope-interface")]
    listed = json.loads(simple.project_list(["zope-interface", "django"], "json"))
    assert listed == {"meta": {"api-version": "1.1"}, "projects": [{"name": "django"}, {"name": "zope-interface"}]}
