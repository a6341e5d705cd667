"""Blobs in a dict: the reference implementation of the blob store contract, for tests."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobNotFound, ConcurrentUpdate, UploadNotFound
from hoist.domain.ports import BlobInfo, StoredUpload


class MemoryBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[Digest, bytes] = {}  # the medium (tests rot it)
        self.aside: dict[str, bytes] = {}
        self._uploads: dict[str, tuple[bytearray, datetime]] = {}
        self._open: set[str] = set()
        self._lock = threading.Lock()

    def stat(self, digest: Digest) -> BlobInfo:
        return BlobInfo(digest, len(self._get(digest)))

    def _get(self, digest: Digest) -> bytes:
        try:
            return self.blobs[digest]
        except KeyError:
            raise BlobNotFound(f"blob {digest} is not stored", digest=str(digest)) from None

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        return io.BytesIO(self._get(digest)[offset:])

    def path(self, digest: Digest) -> Path | None:  # noqa: ARG002
        return None

    def download_url(self, digest: Digest, *, expires_in: int) -> str | None:  # noqa: ARG002
        return None

    def delete(self, digest: Digest) -> None:
        self.blobs.pop(digest, None)

    def set_aside(self, digest: Digest) -> str | None:
        with self._lock:
            data = self.blobs.pop(digest, None)
            if data is None:
                return None
            where = f"{digest}-{uuid.uuid4().hex[:8]}"
            self.aside[where] = data
            return where

    def digests(self) -> Iterator[Digest]:
        yield from sorted(self.blobs)

    def create_upload(self) -> str:
        key = uuid.uuid4().hex
        with self._lock:
            self._uploads[key] = (bytearray(), datetime.now(UTC))
        return key

    def _buffer(self, key: str) -> bytearray:
        try:
            return self._uploads[key][0]
        except KeyError:
            raise UploadNotFound(f"upload {key!r} is unknown or has ended", upload_id=key) from None

    def append(self, key: str, offset: int) -> MemoryUploadWriter:
        with self._lock:
            data = self._buffer(key)
            if len(data) < offset:
                raise UploadNotFound(f"upload {key!r} holds fewer bytes than recorded", upload_id=key)
            if key in self._open:
                raise ConcurrentUpdate(f"upload {key} is being written by another request")
            del data[offset:]
            self._open.add(key)
        return MemoryUploadWriter(self, key, offset)

    def read_upload(self, key: str) -> BinaryIO:
        return io.BytesIO(bytes(self._buffer(key)))

    def commit_upload(self, key: str, digest: Digest) -> BlobInfo:
        with self._lock:
            data = bytes(self._buffer(key))
            self._uploads.pop(key)
            self._open.discard(key)
            self.blobs[digest] = data
        return BlobInfo(digest, len(data))

    def abort_upload(self, key: str) -> int:
        with self._lock:
            self._open.discard(key)
            data, _ = self._uploads.pop(key, (bytearray(), None))
            return len(data)

    def uploads(self) -> Iterator[StoredUpload]:
        with self._lock:
            listed = sorted((key, started) for key, (_, started) in self._uploads.items())
        for key, started in listed:
            yield StoredUpload(key, started)

    def _release(self, key: str) -> None:
        with self._lock:
            self._open.discard(key)


class MemoryUploadWriter:
    def __init__(self, store: MemoryBlobStore, key: str, size: int) -> None:
        self.key = key
        self.size = size
        self._store = store
        self._closed = False

    def write(self, chunk: bytes) -> None:
        if self._closed:
            raise UploadNotFound(f"upload {self.key} is closed", upload_id=self.key)
        self._store._buffer(self.key).extend(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._store._release(self.key)
