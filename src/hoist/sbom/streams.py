"""Tar archives read front to back, compressed or not, in bounded memory (never the whole archive)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from typing import IO, TYPE_CHECKING, cast

import zstandard

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

TAR_BUFFER = 1024 * 1024  # bytes tarfile asks for at a time; decompressors never produce more per read
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

# everything a damaged or mislabelled stream can raise while being read
STREAM_ERRORS = (tarfile.TarError, zlib.error, EOFError, gzip.BadGzipFile, zstandard.ZstdError)


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff the compression), put back in front."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            count = min(len(view), len(self._prefix))
            view[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def open_tar(source: IO[bytes], *, media_type: str = "") -> tarfile.TarFile:
    """A streaming ``TarFile`` over ``source``: plain, gzip or zstd, told apart by their magic bytes
    (a zstd media type counts too). Errors of a damaged stream are among ``STREAM_ERRORS``."""
    head = source.read(4)
    stream: IO[bytes] = cast(IO[bytes], io.BufferedReader(_Prefixed(head, source), buffer_size=TAR_BUFFER))
    if head.startswith(GZIP_MAGIC):
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    elif head.startswith(ZSTD_MAGIC) or "zstd" in media_type:
        stream = cast(IO[bytes], zstandard.ZstdDecompressor().stream_reader(stream, read_size=TAR_BUFFER))
    return tarfile.open(fileobj=stream, mode="r|", bufsize=TAR_BUFFER)
