"""A published tarball: base64 decoded in bounded chunks into a file while it is hashed, and the
``package.json`` inside it read, so that what Hoist serves is computed from the bytes, never taken
from the client's metadata."""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
import tarfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

from hoist.domain.errors import InvalidInput, TooLarge
from hoist.domain.jsonlimits import MIB, PACKAGE_FILE_BYTES, read_json

MAX_TARBALL_BYTES = 256 * MIB
# A gzip bomb is read no further than this while looking for package.json.
MAX_UNPACKED_BYTES = 1024 * MIB
_CHUNK = 4 * 256 * 1024  # base64 characters per step: a multiple of 4, so every chunk decodes alone


@dataclass(frozen=True, slots=True)
class Digests:
    size: int
    sha512: bytes
    sha1: bytes
    sha256: bytes

    @property
    def integrity(self) -> str:
        """Subresource Integrity, as npm's ``dist.integrity``."""
        return "sha512-" + base64.b64encode(self.sha512).decode()

    @property
    def shasum(self) -> str:
        """npm's legacy ``dist.shasum``: sha1, hex."""
        return self.sha1.hex()


def digests_of(data: IO[bytes]) -> Digests:
    """The digests of a stored tarball, read from its start."""
    hashers = (hashlib.sha512(), hashlib.sha1(usedforsecurity=False), hashlib.sha256())
    size = 0
    while chunk := data.read(1024 * 1024):
        size += len(chunk)
        for h in hashers:
            h.update(chunk)
    return Digests(size, hashers[0].digest(), hashers[1].digest(), hashers[2].digest())


def decode_attachment(text: str, sink: IO[bytes], *, limit: int = MAX_TARBALL_BYTES) -> Digests:
    """Base64 ``text`` decoded into ``sink`` a chunk at a time, hashed on the way."""
    if (len(text) // 4) * 3 > limit + 2:
        raise TooLarge(f"the tarball is larger than {limit} bytes", limit=limit)
    hashers = (hashlib.sha512(), hashlib.sha1(usedforsecurity=False), hashlib.sha256())
    size = 0
    for start in range(0, len(text), _CHUNK):
        try:
            chunk = binascii.a2b_base64(text[start : start + _CHUNK], strict_mode=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("the tarball attachment is not base64 data") from None
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the tarball is larger than {limit} bytes", limit=limit)
        for h in hashers:
            h.update(chunk)
        sink.write(chunk)
    if size == 0:
        raise InvalidInput("the tarball attachment is empty")
    return Digests(size, hashers[0].digest(), hashers[1].digest(), hashers[2].digest())


class _Bounded(io.RawIOBase):
    """The decompressed stream, refused once it passes ``limit`` bytes."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        self._left -= len(data)
        if self._left < 0:
            raise TooLarge(f"the tarball unpacks to more than {MAX_UNPACKED_BYTES} bytes", limit=MAX_UNPACKED_BYTES)
        buffer[: len(data)] = data
        return len(data)


def package_json(tarball: IO[bytes], *, unpacked_limit: int = MAX_UNPACKED_BYTES) -> tuple[bytes, dict[str, Any]]:
    """(bytes, parsed) of the ``<folder>/package.json`` in a gzipped npm tarball (npm packs under
    ``package/``, older tools under other folder names: pacote takes any single top folder)."""
    tarball.seek(0)
    stream = _Bounded(gzip.GzipFile(fileobj=tarball, mode="rb"), unpacked_limit)  # type: ignore[arg-type]
    try:
        with tarfile.open(fileobj=io.BufferedReader(stream), mode="r|") as archive:
            for member in archive:
                parts = member.name.lstrip("./").split("/")
                if len(parts) == 2 and parts[1] == "package.json" and member.isfile():
                    if member.size > PACKAGE_FILE_BYTES:
                        raise TooLarge(f"package.json in the tarball is larger than {PACKAGE_FILE_BYTES} bytes")
                    extracted = archive.extractfile(member)
                    data = extracted.read() if extracted else b""
                    parsed = read_json(data, limit=PACKAGE_FILE_BYTES, where="package.json in the tarball")
                    if not isinstance(parsed, dict):
                        raise InvalidInput("package.json in the tarball is not a JSON object")
                    return data, parsed
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"the tarball is not a gzipped tar archive: {exc}") from None
    raise InvalidInput("the tarball has no package.json (npm packs it as package/package.json)")
