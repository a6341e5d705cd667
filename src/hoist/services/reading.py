"""Whole reads that check what they hand out, over every blob store (``services/blobs``).

A blob read from its first byte is hashed on the way; when the last byte is read (EOF, or as many
bytes as the blob holds) and the bytes do not hash to the digest, the blob is marked corrupt and the
read fails with ``BlobCorrupt`` instead of returning its end. So any full read through Python
(a streamed download, the integrity checks, drills, SBOM generation) leaves the next reader an error
rather than the same wrong bytes, without waiting for fsck. A read closed within ``TAIL`` bytes
of the end (a tar stream stops before its padding, a gzip reader before its trailer) reads the
rest on close, so that it is checked too (marked, not raised: the reader has already let go).
A read from an offset hands out what is there: it cannot know.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable
from typing import BinaryIO, cast

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt

_BUFFER = 1024 * 1024
TAIL = 1024 * 1024


def checked(source: BinaryIO, digest: Digest, size: int, mark_corrupt: Callable[[Digest], None]) -> BinaryIO:
    """``source`` (positioned at the blob's first byte, ``size`` bytes long) as a reader that
    verifies the whole blob when its end is reached."""
    return io.BufferedReader(_Verifying(source, digest, size, mark_corrupt), max(1, min(size, _BUFFER)))


class _Verifying(io.RawIOBase):
    def __init__(self, source: BinaryIO, digest: Digest, size: int, mark: Callable[[Digest], None]) -> None:
        self._source = cast(io.BufferedIOBase, source)  # every store's reader reads into a buffer
        self._digest = digest
        self._size = size
        self._mark = mark
        self._hasher = hashlib.new(digest.algorithm)
        self._read = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = self._source.readinto(buffer)
        if n:
            self._hasher.update(buffer[:n])
            self._read += n
        if not self._done and (n == 0 or self._read >= self._size):
            self._done = True
            self._verify()
        return n

    def _verify(self) -> None:
        actual = self._hasher.hexdigest()
        if actual == self._digest.hex and self._read == self._size:
            return
        self._mark(self._digest)
        raise BlobCorrupt(
            f"blob {self._digest} is corrupt: its {self._read} stored bytes hash to {self._digest.algorithm}:{actual}",
            digest=str(self._digest),
            actual=f"{self._digest.algorithm}:{actual}",
        )

    def close(self) -> None:
        if not self.closed and not self._done and self._size - self._read <= TAIL:
            rest = memoryview(bytearray(64 * 1024))
            with contextlib.suppress(BlobCorrupt):
                while not self._done:
                    self.readinto(rest)
        self._source.close()
        super().close()
