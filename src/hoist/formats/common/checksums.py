"""The checksums package clients ask for next to a file (Maven's ``.sha1``, npm's ``integrity``,
PyPI's ``#sha256=``), computed in one pass over the bytes, and checksum files clients upload."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Checksums:
    """Lowercase hex digests of one file's bytes."""

    md5: str
    sha1: str
    sha256: str
    sha512: str

    def of(self, algorithm: Algorithm) -> str:
        return str(getattr(self, algorithm.value))


class ChecksumHasher:
    """Every algorithm at once, fed chunk by chunk as the bytes arrive."""

    def __init__(self) -> None:
        self._hashes = {a: hashlib.new(a.value, usedforsecurity=False) for a in Algorithm}

    def update(self, chunk: bytes) -> None:
        for h in self._hashes.values():
            h.update(chunk)

    def result(self) -> Checksums:
        return Checksums(**{a.value: h.hexdigest() for a, h in self._hashes.items()})


def checksums_of(chunks: Iterable[bytes]) -> Checksums:
    hasher = ChecksumHasher()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.result()


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
