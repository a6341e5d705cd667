"""Tar archives read front to back, compressed or not, in bounded memory (never the whole archive)."""

from __future__ import annotations

import gzip
import importlib
import io
import tarfile
import zlib
from typing import IO, TYPE_CHECKING, cast

from hoist.domain.errors import InvalidInput

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

TAR_BUFFER = 1024 * 1024  # bytes tarfile asks for at a time; decompressors never produce more per read
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

# everything a damaged or mislabelled stream can raise while being read
STREAM_ERRORS = (tarfile.TarError, zlib.error, EOFError, gzip.BadGzipFile)


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


def open_tar(source: IO[bytes], *, label: str, media_type: str = "") -> tarfile.TarFile:
    """A streaming ``TarFile`` over ``source``: plain, gzip or (when a zstd module is importable) zstd,
    told apart by their magic bytes. Raises InvalidInput naming ``label`` for zstd without a decoder."""
    head = source.read(4)
    stream: IO[bytes] = cast(IO[bytes], io.BufferedReader(_Prefixed(head, source), buffer_size=TAR_BUFFER))
    if head.startswith(GZIP_MAGIC):
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    elif head.startswith(ZSTD_MAGIC) or "zstd" in media_type:
        stream = _zstd(stream, label)
    return tarfile.open(fileobj=stream, mode="r|", bufsize=TAR_BUFFER)


def _zstd(stream: IO[bytes], label: str) -> IO[bytes]:
    try:  # Python 3.14's standard library
        module = importlib.import_module("compression.zstd")
        return cast(IO[bytes], module.ZstdFile(stream))
    except ImportError:
        pass
    try:
        module = importlib.import_module("zstandard")
        return cast(IO[bytes], module.ZstdDecompressor().stream_reader(stream))
    except ImportError:
        raise InvalidInput(
            f"{label} is zstd-compressed and this server has no zstd decoder; push the image with gzip or "
            "uncompressed layers (for example `docker buildx build --output type=image,compression=gzip`)"
        ) from None
