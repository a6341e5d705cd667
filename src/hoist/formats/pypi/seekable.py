"""A stored blob as a seekable file, for readers that jump (a wheel is a zip: its directory is at
the end). Each jump reopens the blob at the new offset, so nothing is held beyond one buffer."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO


class SeekableBlob(io.RawIOBase):
    def __init__(self, open_at: Callable[[int], BinaryIO], size: int) -> None:
        super().__init__()
        self._open_at = open_at
        self._size = size
        self._pos = 0
        self._stream: BinaryIO | None = None
        self._stream_pos = -1

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._size:
            return 0
        if self._stream is None or self._stream_pos != self._pos:
            self._drop()
            self._stream = self._open_at(self._pos)
            self._stream_pos = self._pos
        data = self._stream.read(min(len(buffer), self._size - self._pos))
        buffer[: len(data)] = data
        self._pos += len(data)
        self._stream_pos = self._pos
        return len(data)

    def close(self) -> None:
        self._drop()
        super().close()

    def _drop(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
