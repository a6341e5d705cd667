"""Blob uploads: start, append (resumable, in order), commit under a verified digest, cancel.

The HTTP edge feeds request bodies into an ``UploadSession`` chunk by chunk, so nothing is ever
held whole in memory; size limits are enforced as bytes arrive, not after.

The bytes go to the blob store (``BlobStore.append``); the bookkeeping is the metadata store's
(``blob_uploads``): how many bytes the upload holds, the running SHA-256 over them (serialised:
Go distribution's ``hashstates``), when it started and when bytes last arrived. So any server
continues or finishes an upload without re-reading it, and the digest is verified here, before the
store publishes the bytes. A session records where it got when it closes, and every ``HEARTBEAT``
while it writes (an upload being written is never idle, and a crash loses at most that much).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

import rehashes

from hoist.domain.digests import Digest, new_hasher
from hoist.domain.errors import (
    DigestMismatch,
    TooLarge,
    UploadNotFound,
    UploadOutOfOrder,
    UploadTruncated,
)
from hoist.domain.ports import BlobInfo, MetadataSession, MetadataStore, UploadRecord, UploadWriter
from hoist.services.base import Clock, utcnow
from hoist.services.blobs import Blobs

DEFAULT_UPLOAD_EXPIRY = timedelta(hours=24)
HEARTBEAT = timedelta(minutes=1)
_READ_SIZE = 1024 * 1024
_PARALLEL_HASH = 256 * 1024
_HASHING = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hoist-hash")


@dataclass(frozen=True, slots=True)
class UploadState:
    upload_id: str
    size: int
    started_at: datetime
    updated_at: datetime  # when bytes last arrived (or it started): how long it has been idle


def _state(record: UploadRecord) -> UploadState:
    return UploadState(record.upload_id, record.size, record.started_at, record.updated_at)


def _unknown(upload_id: str) -> UploadNotFound:
    return UploadNotFound(f"upload {upload_id!r} is unknown or has ended", upload_id=upload_id)


def _resume(state: bytes | None) -> rehashes.PySha256:
    return rehashes.PySha256() if state is None else rehashes.PySha256.deserialize(state)


class UploadSession:
    """One request's worth of appends to an upload."""

    def __init__(self, service: UploadService, record: UploadRecord, writer: UploadWriter, *, declared: int | None) -> None:
        self._service = service
        self._record = record
        self._writer = writer
        self._hasher = _resume(record.hash_state)
        self._recorded = record.size  # what the metadata store says the upload holds
        self._beat = service.now()
        self._start = writer.size
        self._declared = declared
        self._open = True

    @property
    def upload_id(self) -> str:
        return self._record.upload_id

    @property
    def size(self) -> int:
        return self._writer.size

    def write(self, chunk: bytes) -> None:
        chunk = bytes(chunk) if not isinstance(chunk, bytes) else chunk  # the hasher takes bytes only
        limit = self._service.max_upload_bytes
        if self._writer.size + len(chunk) > limit:
            self.cancel()
            raise TooLarge(f"the upload exceeds the limit of {limit} bytes and was discarded", limit=limit)
        if len(chunk) >= _PARALLEL_HASH:  # the write releases the GIL: the hash runs meanwhile
            hashed = _HASHING.submit(self._hasher.update, chunk)
            self._writer.write(chunk)
            hashed.result()
        else:
            self._writer.write(chunk)
            self._hasher.update(chunk)
        if self._service.now() - self._beat >= HEARTBEAT:
            self._record_progress()

    def _record_progress(self) -> None:
        now = self._service.now()
        self._service.advance(self._record.upload_id, was=self._recorded, size=self._writer.size, hasher=self._hasher)
        self._recorded, self._beat = self._writer.size, now

    def check_complete(self) -> None:
        """The body ended: it must have carried as many bytes as it declared."""
        received = self._writer.size - self._start
        if self._declared is not None and received != self._declared:
            self.close()
            raise UploadTruncated(
                f"the request declared {self._declared} bytes but carried {received}; "
                f"the upload is kept at {self._writer.size} bytes and can be resumed",
                upload_id=self.upload_id,
                offset=self._writer.size,
            )

    def commit(self, digest: Digest) -> BlobInfo:
        self.check_complete()
        self._open = False
        self._writer.close()
        state = self._hasher.serialize()
        if digest.algorithm == "sha256":
            actual = Digest("sha256", self._hasher.finalize())
        else:  # the running hash is sha256's: another algorithm reads the bytes again
            actual = self._service.rehash(self._record.key, digest.algorithm)
        if actual != digest:
            self._service.discard(self._record)
            raise DigestMismatch(
                f"the uploaded bytes hash to {actual}, not {digest}: the upload was discarded",
                expected=str(digest),
                actual=str(actual),
            )
        return self._service.publish(self._record, digest, was=self._recorded, size=self._writer.size, state=state)

    def close(self) -> None:
        """Stop writing for now; the upload stays resumable under its id."""
        if self._open:
            self._open = False
            self._writer.close()
            self._record_progress()

    def cancel(self) -> None:
        self._open = False
        self._writer.close()
        self._service.discard(self._record)


class UploadService:
    """Uploads idle for longer than ``expire_after`` are gone for clients at once (UploadNotFound),
    whether or not garbage collection has reclaimed their bytes yet."""

    def __init__(
        self,
        blobs: Blobs,
        metadata: MetadataStore,
        *,
        max_upload_bytes: int,
        expire_after: timedelta = DEFAULT_UPLOAD_EXPIRY,
        clock: Clock = utcnow,
    ) -> None:
        self._blobs = blobs
        self._metadata = metadata
        self.max_upload_bytes = max_upload_bytes
        self.expire_after = expire_after
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def start(self) -> UploadState:
        return _state(self._create())

    def _create(self) -> UploadRecord:
        key = self._blobs.store.create_upload()  # a crash before the record: gc reclaims it unnamed
        now = self._clock()
        record = UploadRecord(uuid.uuid4().hex, key, 0, None, now, now)
        with self._metadata.session() as s:
            s.uploads.add(record)
        return record

    def _record(self, upload_id: str) -> UploadRecord:
        with self._metadata.reader() as s:
            record = s.uploads.get(upload_id)
        if record is None:
            raise _unknown(upload_id)
        if record.updated_at < self._clock() - self.expire_after:
            raise UploadNotFound(
                f"upload {upload_id!r} expired: nothing was written to it for {self.expire_after}", upload_id=upload_id
            )
        return record

    def state(self, upload_id: str) -> UploadState:
        return _state(self._record(upload_id))

    def open(self, upload_id: str | None, *, offset: int | None = None, length: int | None = None) -> UploadSession:
        """Append to ``upload_id`` (a new upload if None). ``offset`` is where the client thinks the
        upload ends (UploadOutOfOrder otherwise); ``length`` is the body size the client declared."""
        record = self._create() if upload_id is None else self._record(upload_id)
        if offset is not None and offset != record.size:
            raise UploadOutOfOrder(
                f"the chunk starts at byte {offset} but the upload holds {record.size} bytes", offset=record.size
            )
        writer = self._blobs.store.append(record.key, record.size)
        if upload_id is not None:
            try:  # written to now: not idle, whatever it was (and still ours: not expired meanwhile)
                self.advance(record.upload_id, was=record.size, size=record.size, state=record.hash_state)
            except UploadNotFound:
                writer.close()
                raise
        session = UploadSession(self, record, writer, declared=length)
        if length is not None and record.size + length > self.max_upload_bytes:
            session.cancel()
            raise TooLarge(
                f"the upload would exceed the limit of {self.max_upload_bytes} bytes and was discarded",
                limit=self.max_upload_bytes,
            )
        return session

    def cancel(self, upload_id: str) -> None:
        self.discard(self._record(upload_id))

    def stat(self, digest: Digest) -> BlobInfo:
        return self._blobs.stat(digest)

    def read(self, digest: Digest, offset: int = 0) -> BinaryIO:
        """A stored blob's bytes from ``offset`` (a room reading a file it holds: a wheel's METADATA)."""
        return self._blobs.open(digest, offset)

    # -- what sessions and garbage collection call ----------------------------------------------

    def advance(
        self,
        upload_id: str,
        *,
        was: int,
        size: int,
        hasher: rehashes.PySha256 | None = None,
        state: bytes | None = None,
    ) -> None:
        """Record that the upload holds ``size`` bytes now (it held ``was``); UploadNotFound when it
        ended meanwhile (expired, cancelled, finished by another request)."""
        hash_state = hasher.serialize() if hasher is not None else state
        with self._metadata.session() as s:
            if not s.uploads.advance(upload_id, was=was, size=size, hash_state=hash_state, now=self._clock()):
                raise _unknown(upload_id)

    def rehash(self, key: str, algorithm: str) -> Digest:
        hasher = new_hasher(algorithm)
        with self._blobs.store.read_upload(key) as f:
            while block := f.read(_READ_SIZE):
                hasher.update(block)
        return Digest(algorithm, hasher.hexdigest())

    def publish(self, record: UploadRecord, digest: Digest, *, was: int, size: int, state: bytes) -> BlobInfo:
        def still_ours(s: MetadataSession) -> None:  # not expired or cancelled meanwhile: whole as recorded
            if not s.uploads.advance(record.upload_id, was=was, size=size, hash_state=state, now=self._clock()):
                raise _unknown(record.upload_id)

        def ended(s: MetadataSession) -> None:
            s.uploads.remove(record.upload_id)

        return self._blobs.publish(record.key, digest, before=still_ours, after=ended)

    def discard(self, record: UploadRecord) -> int:
        with self._metadata.session() as s:
            s.uploads.remove(record.upload_id)
        return self._blobs.store.abort_upload(record.key)

    def in_progress(self) -> list[UploadState]:
        with self._metadata.reader() as s:
            return [_state(r) for r in s.uploads.every()]

    def expire(self, *, idle_since: datetime, dry_run: bool = False) -> list[UploadState]:
        """Discard every upload nothing was written to since ``idle_since`` (abandoned by a crash: a
        one-shot upload whose client never learnt its id, a chunked upload never finished), and the
        bytes of uploads the store holds that no record names and that started before then (a crash
        between creating one and recording it, or one from before records were kept). Says which,
        with their size."""
        with self._metadata.reader() as s:
            idle = s.uploads.idle(idle_since)
            known = {r.key for r in s.uploads.every()}
        orphans = [u for u in self._blobs.store.uploads() if u.key not in known and u.started_at < idle_since]
        if dry_run:  # an orphan's size is known once it is aborted: 0 until then
            return [_state(r) for r in idle] + [UploadState(u.key, 0, u.started_at, u.started_at) for u in orphans]
        expired = []
        for record in idle:
            with self._metadata.session() as s:
                gone = s.uploads.get(record.upload_id)
                if gone is None or gone.updated_at >= idle_since:  # ended, or written to meanwhile
                    continue
                s.uploads.remove(record.upload_id)
            size = self._blobs.store.abort_upload(record.key)
            expired.append(UploadState(record.upload_id, size, record.started_at, record.updated_at))
        for orphan in orphans:
            size = self._blobs.store.abort_upload(orphan.key)
            expired.append(UploadState(orphan.key, size, orphan.started_at, orphan.started_at))
        return expired
