from __future__ import annotations

import hashlib

import pytest

from hoist.domain.digests import Digest, is_digest
from hoist.domain.errors import InvalidDigest, InvalidName
from hoist.domain.names import validate_file_name, validate_package_name, validate_registry_name


def test_digest_parses_sha256_and_sha512() -> None:
    h256 = hashlib.sha256(b"x").hexdigest()
    h512 = hashlib.sha512(b"x").hexdigest()
    assert str(Digest.parse(f"sha256:{h256}")) == f"sha256:{h256}"
    assert Digest.parse(f"sha512:{h512}") == Digest.of(b"x", "sha512")
    assert Digest.of(b"x").short == f"sha256:{h256[:12]}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sha256",
        "sha256:",
        "md5:" + "a" * 32,
        "sha256:" + "A" * 64,
        "sha256:" + "a" * 63,
        "sha512:" + "a" * 64,
        "sha256:" + "g" * 64,
    ],
)
def test_bad_digests_are_refused(text: str) -> None:
    with pytest.raises(InvalidDigest):
        Digest.parse(text)
    assert not is_digest(text)


@pytest.mark.parametrize("name", ["shop-api", "shop/api", "a", "acme.tools/x_y", "a__b", "a--b", "a/b/c"])
def test_good_package_names(name: str) -> None:
    assert validate_package_name(name) == name


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("../etc", "'..'"),
        ("a/../b", "'..'"),
        ("/abs", "absolute"),
        ("a//b", "not a valid"),
        ("Shop", "not a valid"),
        ("a\\b", "backslash"),
        ("", "empty"),
        ("-x", "not a valid"),
        ("a/", "not a valid"),
        ("x" * 201, "longer"),
    ],
)
def test_bad_package_names_say_why(name: str, hint: str) -> None:
    with pytest.raises(InvalidName, match=hint):
        validate_package_name(name)


@pytest.mark.parametrize("name", ["app.tgz", "My App 1.0.zip", "x", "..a", "ümlaut.bin"])
def test_good_file_names(name: str) -> None:
    assert validate_file_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", "/etc/passwd", "a\x00b", "a\nb", "x" * 300])
def test_file_names_cannot_escape_a_folder(name: str) -> None:
    with pytest.raises(InvalidName):
        validate_file_name(name)


@pytest.mark.parametrize("name", ["dev", "prod", "pre-prod", "eu1"])
def test_registry_names(name: str) -> None:
    assert validate_registry_name(name) == name


@pytest.mark.parametrize("name", ["Dev", "1dev", "", "de v", "a" * 64])
def test_bad_registry_names(name: str) -> None:
    with pytest.raises(InvalidName):
        validate_registry_name(name)
