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
from hoist.domain.errors import BlobCorrupt, BlobNotFound, ConcurrentUpdate, DigestMismatch, UploadNotFound
from hoist.domain.ports import BlobInfo, UploadState
from hoist.storage.reading import checked


class MemoryBlobStore:
    def __init__(self) -> None:
        self._blobs: dict[Digest, bytes] = {}
        self._stored_at: dict[Digest, datetime] = {}
        self._uploads: dict[str, tuple[bytearray, datetime]] = {}
        self._written_at: dict[str, datetime] = {}
        self._open: set[str] = set()
        self._lock = threading.Lock()
        self._corrupt: set[Digest] = set()

    def stat(self, digest: Digest) -> BlobInfo:
        return BlobInfo(digest, len(self._get(digest)), self._stored_at.get(digest))

    def _get(self, digest: Digest) -> bytes:
        if digest in self._corrupt and digest in self._blobs:
            raise BlobCorrupt.of(digest)
        try:
            return self._blobs[digest]
        except KeyError:
            raise BlobNotFound(f"blob {digest} is not stored", digest=str(digest)) from None

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        data = self._get(digest)
        if offset:
            return io.BytesIO(data[offset:])
        return checked(io.BytesIO(data), digest, len(data), self.mark_corrupt)

    def path(self, digest: Digest) -> Path | None:
        if digest in self._corrupt and digest in self._blobs:
            raise BlobCorrupt.of(digest)
        return None

    def download_url(self, digest: Digest, *, expires_in: int) -> str | None:  # noqa: ARG002
        return None

    def writer(self, upload_id: str | None = None) -> MemoryBlobWriter:
        with self._lock:
            if upload_id is None:
                upload_id = uuid.uuid4().hex
                self._uploads[upload_id] = (bytearray(), datetime.now(UTC))
                self._written_at[upload_id] = self._uploads[upload_id][1]
            elif upload_id not in self._uploads:
                raise UploadNotFound(f"upload {upload_id!r} is unknown or has ended", upload_id=upload_id)
            if upload_id in self._open:
                raise ConcurrentUpdate(f"upload {upload_id} is being written by another request")
            self._open.add(upload_id)
        return MemoryBlobWriter(self, upload_id)

    def upload_state(self, upload_id: str) -> UploadState:
        try:
            data, started = self._uploads[upload_id]
        except KeyError:
            raise UploadNotFound(f"upload {upload_id!r} is unknown or has ended", upload_id=upload_id) from None
        return UploadState(upload_id, len(data), started, self._written_at.get(upload_id, started))

    def uploads(self) -> Iterator[UploadState]:
        for upload_id in sorted(self._uploads):
            yield self.upload_state(upload_id)

    def expire_uploads(self, *, idle_since: datetime) -> list[UploadState]:
        with self._lock:
            idle = [s for s in self.uploads() if s.updated_at < idle_since and s.upload_id not in self._open]
            for state in idle:
                self._uploads.pop(state.upload_id)
                self._written_at.pop(state.upload_id, None)
        return idle

    def delete(self, digest: Digest) -> None:
        self._blobs.pop(digest, None)
        self._stored_at.pop(digest, None)

    def mark_corrupt(self, digest: Digest) -> None:
        self._corrupt.add(digest)

    def quarantine(self, digest: Digest) -> bool:
        with self._lock:
            self._corrupt.discard(digest)
            self._stored_at.pop(digest, None)
            return self._blobs.pop(digest, None) is not None

    def touch(self, digest: Digest) -> bool:
        with self._lock:
            if digest not in self._blobs:
                return False
            self._stored_at[digest] = datetime.now(UTC)
            return True

    def collect(self, digest: Digest, *, older_than: datetime) -> int | None:
        with self._lock:
            stored_at = self._stored_at.get(digest)
            if digest not in self._blobs or (stored_at is not None and stored_at >= older_than):
                return None
            self._stored_at.pop(digest, None)
            return len(self._blobs.pop(digest))

    def digests(self) -> Iterator[Digest]:
        yield from sorted(self._blobs)

    def _buffer(self, upload_id: str) -> bytearray:
        try:
            return self._uploads[upload_id][0]
        except KeyError:
            raise UploadNotFound(f"upload {upload_id} has ended", upload_id=upload_id) from None

    def _finish(self, upload_id: str, publish: Digest | None) -> None:
        with self._lock:
            data, _ = self._uploads.pop(upload_id, (bytearray(), None))
            self._written_at.pop(upload_id, None)
            self._open.discard(upload_id)
            if publish is not None:
                if publish in self._corrupt:  # verified bytes replace a corrupt copy
                    self._blobs[publish] = bytes(data)
                    self._corrupt.discard(publish)
                self._blobs.setdefault(publish, bytes(data))
                self._stored_at[publish] = datetime.now(UTC)  # new, or the same bytes again: fresh

    def _release(self, upload_id: str) -> None:
        with self._lock:
            self._open.discard(upload_id)


class MemoryBlobWriter:
    def __init__(self, store: MemoryBlobStore, upload_id: str) -> None:
        self.upload_id = upload_id
        self._store = store
        self.size = len(store._buffer(upload_id))

    def write(self, chunk: bytes) -> None:
        self._store._buffer(self.upload_id).extend(chunk)
        self._store._written_at[self.upload_id] = datetime.now(UTC)
        self.size += len(chunk)

    def commit(self, expected: Digest) -> BlobInfo:
        data = bytes(self._store._buffer(self.upload_id))
        actual = Digest.of(data, expected.algorithm)
        if actual != expected:
            self._store._finish(self.upload_id, None)
            raise DigestMismatch(
                f"the uploaded bytes hash to {actual}, not {expected}: the upload was discarded",
                expected=str(expected),
                actual=str(actual),
            )
        self._store._finish(self.upload_id, expected)
        return BlobInfo(expected, len(data))

    def close(self) -> None:
        self._store._release(self.upload_id)

    def cancel(self) -> None:
        self._store._finish(self.upload_id, None)
