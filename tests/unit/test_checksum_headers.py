"""The checksums clients declare beside a file (X-Checksum-*, RFC 3230 Digest, RFC 9530
Content-Digest) and the ones a download carries."""

from __future__ import annotations

import base64
import hashlib

import pytest

from hoist.domain.errors import DigestMismatch, InvalidInput
from hoist.formats.common.checksum_headers import check_declared, checksum_headers, declared_checksums

DATA = b"build once, promote the same bytes" * 10_000  # above the size hashed in parallel


def b64(algorithm: str, data: bytes = DATA) -> str:
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def checksums(data: bytes = DATA) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a in ("sha256", "sha1", "md5", "sha512")}


def test_declared_checksums_in_every_header_style_are_read_as_hex() -> None:
    headers = {
        "X-Checksum-Sha1": hashlib.sha1(DATA).hexdigest().upper(),
        "Digest": f"SHA-256={b64('sha256')}, MD5={b64('md5')}, UNIXsum=30637",
        "Content-Digest": f"sha-512=:{b64('sha512')}:",
    }
    declared = declared_checksums(headers)
    assert declared == {a: hashlib.new(a, DATA).hexdigest() for a in ("sha1", "sha256", "md5", "sha512")}
    check_declared(checksums(), declared)  # the bytes have every one of them


def test_no_declared_checksum_is_nothing_to_check() -> None:
    assert declared_checksums({"Content-Type": "application/octet-stream"}) == {}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Checksum-Sha256": "abc"}, "X-Checksum-Sha256 is not a sha256 checksum: expected 64 hex digits (32 bytes)"),
        ({"X-Checksum-Md5": "z" * 32}, "X-Checksum-Md5 is not a md5 checksum: expected 32 hex digits (16 bytes)"),
        ({"Digest": "sha-256=not base64!"}, "Digest: the sha-256 value is not base64"),
        ({"Content-Digest": f"sha-256=:{b64('md5')}:"}, "Content-Digest is not a sha256 checksum"),
        (
            {"X-Checksum-Sha256": "0" * 64, "Digest": f"sha-256={b64('sha256')}"},
            "X-Checksum-Sha256 and Digest declare different sha256 checksums",
        ),
    ],
)
def test_malformed_or_contradicting_declarations_are_refused(headers: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        declared_checksums(headers)
    assert message in caught.value.message


def test_a_declared_checksum_the_bytes_do_not_have_is_a_mismatch_naming_it() -> None:
    with pytest.raises(DigestMismatch) as caught:
        check_declared(checksums(), {"sha256": hashlib.sha256(DATA).hexdigest(), "md5": "0" * 32})
    assert caught.value.message == (
        f"the body's md5 is {hashlib.md5(DATA).hexdigest()}, but the request declared {'0' * 32}: nothing was stored"
    )


def test_download_headers_carry_every_known_checksum() -> None:
    headers = checksum_headers(checksums())
    assert headers["X-Checksum-Sha256"] == hashlib.sha256(DATA).hexdigest()
    assert headers["X-Checksum-Sha1"] == hashlib.sha1(DATA).hexdigest()
    assert headers["X-Checksum-Md5"] == hashlib.md5(DATA).hexdigest()
    assert headers["Digest"] == f"sha-256={b64('sha256')},sha={b64('sha1')},md5={b64('md5')},sha-512={b64('sha512')}"
    # what a client reads back is what a client may declare
    assert declared_checksums(headers) == checksums()
    only_digest = checksum_headers({"sha256": checksums()["sha256"]})  # a file stored before checksums were kept
    assert only_digest == {"X-Checksum-Sha256": checksums()["sha256"], "Digest": f"sha-256={b64('sha256')}"}
