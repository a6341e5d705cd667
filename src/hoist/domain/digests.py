"""Content digests (``algorithm:hex``), the identity of every blob and manifest."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from hoist.domain.errors import InvalidDigest
from hoist.domain.names import clip

_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_ENCODED = re.compile(r"[a-f0-9]+")


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...
    def copy(self) -> Hasher: ...


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        algorithm, sep, encoded = text.partition(":")
        if not sep:
            raise InvalidDigest(f"{clip(text)!r} is not a digest: expected 'sha256:<64 hex digits>'", digest=clip(text))
        expected = _HEX_LENGTH.get(algorithm)
        if expected is None:
            raise InvalidDigest(f"unsupported digest algorithm {clip(algorithm)!r}: use sha256 or sha512", digest=clip(text))
        if len(encoded) != expected or not _ENCODED.fullmatch(encoded):
            raise InvalidDigest(
                f"{clip(text)!r} is not a valid {algorithm} digest: expected {expected} lowercase hex digits",
                digest=clip(text),
            )
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        h = new_hasher(algorithm)
        h.update(data)
        return cls(algorithm, h.hexdigest())

    def hasher(self) -> Hasher:
        return new_hasher(self.algorithm)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def short(self) -> str:
        return f"{self.algorithm}:{self.hex[:12]}"


def new_hasher(algorithm: str = "sha256") -> Hasher:
    if algorithm not in _HEX_LENGTH:
        raise InvalidDigest(f"unsupported digest algorithm {clip(algorithm)!r}: use sha256 or sha512")
    h: Hasher = hashlib.new(algorithm)
    return h


def is_digest(text: str) -> bool:
    try:
        Digest.parse(text)
    except InvalidDigest:
        return False
    return True
