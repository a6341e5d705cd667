"""Checksum files: the ``.md5``/``.sha1``/``.sha256``/``.sha512`` a package client asks for next to a
file (answered from the checksums ingest recorded, ``FileEntry.checksum``) or uploads after it
(compared with the stored file, never kept)."""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

from hoist.domain.errors import InvalidDigest, InvalidInput
from hoist.domain.names import clip

MAX_CHECKSUM_FILE_BYTES = 1024


class Algorithm(StrEnum):
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"

    @property
    def hex_length(self) -> int:
        return hashlib.new(self.value, usedforsecurity=False).digest_size * 2

    def of(self, data: bytes) -> str:
        """The hex checksum of bytes in hand (a document the server renders, like maven-metadata.xml)."""
        return hashlib.new(self.value, data, usedforsecurity=False).hexdigest()


def parse_checksum_file(algorithm: Algorithm, body: bytes) -> str:
    """The hex digest in an uploaded checksum file: ``<hex>`` or ``<hex>  <file name>`` (sha1sum's
    output), any case, surrounding whitespace ignored."""
    if len(body) > MAX_CHECKSUM_FILE_BYTES:
        raise InvalidInput(f"a .{algorithm} file holds one checksum; this one is {len(body)} bytes")
    words = body.decode("ascii", errors="replace").split()
    value = words[0].lower() if words else ""
    if len(value) != algorithm.hex_length or any(c not in "0123456789abcdef" for c in value):
        raise InvalidDigest(
            f"{clip(value)!r} is not a {algorithm} checksum: expected {algorithm.hex_length} hex digits",
            checksum=clip(value),
        )
    return value


def same_checksum(a: str, b: str) -> bool:
    return hmac.compare_digest(a.lower(), b.lower())
