"""A published tarball: base64 decoded in bounded chunks, the ``package.json`` inside it read, and
npm's ``dist`` digests taken from the checksums recorded as the bytes arrived: what Hoist serves
is computed from the bytes, never taken from the client's metadata."""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import tarfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

from hoist.domain.errors import InvalidInput, TooLarge
from hoist.domain.jsonlimits import MIB, PACKAGE_FILE_BYTES, read_json
from hoist.domain.models import FileEntry

MAX_TARBALL_BYTES = 256 * MIB
# A gzip bomb is read no further than this while looking for package.json.
MAX_UNPACKED_BYTES = 1024 * MIB
_CHUNK = 4 * 256 * 1024  # base64 characters per step: a multiple of 4, so every chunk decodes alone


def integrity(tarball: FileEntry) -> str:
    """npm's ``dist.integrity`` (Subresource Integrity, sha512) of a stored tarball."""
    return "sha512-" + base64.b64encode(bytes.fromhex(_checksum(tarball, "sha512"))).decode()


def shasum(tarball: FileEntry) -> str:
    """npm's legacy ``dist.shasum``: sha1, hex."""
    return _checksum(tarball, "sha1")


def _checksum(tarball: FileEntry, algorithm: str) -> str:
    value = tarball.checksum(algorithm)
    if value is None:  # every tarball comes in through ingest, which records both
        raise ValueError(f"{tarball.name} has no {algorithm} recorded")
    return value


def decoded(text: str, *, limit: int = MAX_TARBALL_BYTES) -> Iterator[bytes]:
    """Base64 ``text`` decoded a chunk at a time, refused past ``limit`` bytes or when it is empty."""
    if (len(text) // 4) * 3 > limit + 2:
        raise TooLarge(f"the tarball is larger than {limit} bytes", limit=limit)
    if not text:
        raise InvalidInput("the tarball attachment is empty")
    size = 0
    for start in range(0, len(text), _CHUNK):
        try:
            chunk = binascii.a2b_base64(text[start : start + _CHUNK], strict_mode=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("the tarball attachment is not base64 data") from None
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the tarball is larger than {limit} bytes", limit=limit)
        yield chunk


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
