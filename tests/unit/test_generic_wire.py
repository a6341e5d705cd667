"""The plain HTTP view's addresses and listings (``formats/generic/wire``)."""

from __future__ import annotations

import json

import pytest

from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput, InvalidName
from hoist.domain.models import FileEntry
from hoist.formats.generic.wire import Address, listing_json, listing_text, parse_address, wants_text


@pytest.mark.parametrize(
    ("path", "address"),
    [
        ("/generic/dev/shop-api/1.4.0/app.tgz", Address("dev", "shop-api", "1.4.0", "app.tgz")),
        ("/generic/dev/shop/web/ui/1.4.0+57/bundle.js", Address("dev", "shop/web/ui", "1.4.0+57", "bundle.js")),
        ("/generic/prod/shop/api/1.4.0-SNAPSHOT/", Address("prod", "shop/api", "1.4.0-SNAPSHOT", None)),
    ],
)
def test_an_address_is_read_from_its_end(path: str, address: Address) -> None:
    assert parse_address(path) == address


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("/generic/dev/app.tgz", InvalidInput, "is not a file address: use /generic/<registry>/<package>/<version>/<file>"),
        ("/generic/dev//1.0.0/app.tgz", InvalidInput, "is not a file address"),
        ("/generic/dev/shop//api/1.0.0/a", InvalidInput, "is not a file address"),
        ("/generic/Dev/shop/1.0.0/a", InvalidName, "registry name 'Dev' is invalid"),
        ("/generic/dev/Shop/1.0.0/a", InvalidName, "is not a valid package name"),
        ("/generic/dev/shop/../1.0.0/a", InvalidName, "contains a '.' or '..' path component"),
        ("/generic/dev/npm/left-pad/1.0.0/a", InvalidName, "'npm/left-pad' is reserved for the npm view: publish with npm"),
        ("/generic/dev/maven/org.acme:lib/1.0/a", InvalidName, "is reserved for the maven view"),
        ("/generic/dev/shop/1.0.0/..", InvalidName, "is not a file name"),
        ("/generic/dev/shop/1.0.0/a\x01b", InvalidName, "contains a control character"),
        ("/other/dev/shop/1.0.0/a", InvalidInput, "is not under /generic/"),
    ],
)
def test_a_bad_address_says_what_is_wrong(path: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        parse_address(path)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("accept", "text"),
    [
        (None, False),
        ("*/*", False),
        ("text/plain", True),
        ("application/json, text/plain", False),
        ("text/plain;q=0.5, application/json", False),
        ("application/json;q=0.1, text/plain", True),
        ("text/plain;q=0", False),
        ("text/html, text/plain;q=0.9", True),
    ],
)
def test_a_listing_is_text_only_when_the_client_prefers_it(accept: str | None, text: bool) -> None:
    assert wants_text(accept) is text


def test_listings_name_every_file_in_order() -> None:
    files = [
        FileEntry("b.js", Digest.of(b"b"), 1, "text/javascript"),
        FileEntry("a.tgz", Digest.of(b"aa"), 2),
    ]
    address = Address("prod", "shop/ui", "1.4.0+57", None)
    assert json.loads(listing_json(address, "1.4.0+57", files, sealed=True)) == {
        "registry": "prod",
        "package": "shop/ui",
        "version": "1.4.0+57",
        "sealed": True,
        "files": [
            {
                "name": "a.tgz",
                "size": 2,
                "digest": str(Digest.of(b"aa")),
                "media_type": "application/octet-stream",
                "url": "/generic/prod/shop/ui/1.4.0+57/a.tgz",
            },
            {
                "name": "b.js",
                "size": 1,
                "digest": str(Digest.of(b"b")),
                "media_type": "text/javascript",
                "url": "/generic/prod/shop/ui/1.4.0+57/b.js",
            },
        ],
    }
    assert listing_text(files) == b"a.tgz\nb.js\n"
