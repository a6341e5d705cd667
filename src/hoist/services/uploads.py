"""Blob uploads: start, append (resumable, in order), commit under a verified digest, cancel.

The HTTP edge feeds request bodies into an ``UploadSession`` chunk by chunk, so nothing is ever
held whole in memory; size limits are enforced as bytes arrive, not after.
"""

from __future__ import annotations

from datetime import timedelta
from typing import BinaryIO

from hoist.domain.digests import Digest
from hoist.domain.errors import TooLarge, UploadNotFound, UploadOutOfOrder, UploadTruncated
from hoist.domain.ports import BlobInfo, BlobStore, BlobWriter, UploadState
from hoist.services.base import Clock, utcnow

DEFAULT_UPLOAD_EXPIRY = timedelta(hours=24)


class UploadSession:
    """One request's worth of appends to an upload."""

    def __init__(self, writer: BlobWriter, *, limit: int, declared: int | None) -> None:
        self._writer = writer
        self._limit = limit
        self._start = writer.size
        self._declared = declared

    @property
    def upload_id(self) -> str:
        return self._writer.upload_id

    @property
    def size(self) -> int:
        return self._writer.size

    def write(self, chunk: bytes) -> None:
        if self._writer.size + len(chunk) > self._limit:
            self._writer.cancel()
            raise TooLarge(f"the upload exceeds the limit of {self._limit} bytes and was discarded", limit=self._limit)
        self._writer.write(chunk)

    def check_complete(self) -> None:
        """The body ended: it must have carried as many bytes as it declared."""
        received = self._writer.size - self._start
        if self._declared is not None and received != self._declared:
            self._writer.close()
            raise UploadTruncated(
                f"the request declared {self._declared} bytes but carried {received}; "
                f"the upload is kept at {self._writer.size} bytes and can be resumed",
                upload_id=self.upload_id,
                offset=self._writer.size,
            )

    def commit(self, digest: Digest) -> BlobInfo:
        self.check_complete()
        return self._writer.commit(digest)

    def close(self) -> None:
        self._writer.close()

    def cancel(self) -> None:
        self._writer.cancel()


class UploadService:
    """Uploads idle for longer than ``expire_after`` are gone for clients at once (UploadNotFound),
    whether or not garbage collection has reclaimed their bytes yet."""

    def __init__(
        self,
        blobs: BlobStore,
        *,
        max_upload_bytes: int,
        expire_after: timedelta = DEFAULT_UPLOAD_EXPIRY,
        clock: Clock = utcnow,
    ) -> None:
        self._blobs = blobs
        self.max_upload_bytes = max_upload_bytes
        self.expire_after = expire_after
        self._clock = clock

    def start(self) -> UploadState:
        writer = self._blobs.writer()
        writer.close()
        return self._blobs.upload_state(writer.upload_id)

    def state(self, upload_id: str) -> UploadState:
        state = self._blobs.upload_state(upload_id)
        if state.updated_at < self._clock() - self.expire_after:
            raise UploadNotFound(
                f"upload {upload_id!r} expired: nothing was written to it for {self.expire_after}", upload_id=upload_id
            )
        return state

    def open(self, upload_id: str | None, *, offset: int | None = None, length: int | None = None) -> UploadSession:
        """Append to ``upload_id`` (a new upload if None). ``offset`` is where the client thinks the
        upload ends (UploadOutOfOrder otherwise); ``length`` is the body size the client declared."""
        if upload_id is not None:
            self.state(upload_id)
        writer = self._blobs.writer(upload_id)
        if offset is not None and offset != writer.size:
            writer.close()
            raise UploadOutOfOrder(
                f"the chunk starts at byte {offset} but the upload holds {writer.size} bytes",
                offset=writer.size,
            )
        if length is not None and writer.size + length > self.max_upload_bytes:
            writer.cancel()
            raise TooLarge(
                f"the upload would exceed the limit of {self.max_upload_bytes} bytes and was discarded",
                limit=self.max_upload_bytes,
            )
        return UploadSession(writer, limit=self.max_upload_bytes, declared=length)

    def cancel(self, upload_id: str) -> None:
        self.state(upload_id)
        self._blobs.writer(upload_id).cancel()

    def stat(self, digest: Digest) -> BlobInfo:
        return self._blobs.stat(digest)

    def read(self, digest: Digest, offset: int = 0) -> BinaryIO:
        """A stored blob's bytes from ``offset`` (a room reading a file it holds: a wheel's METADATA)."""
        return self._blobs.open(digest, offset)
