"""``Blobs``: the blob store's bytes together with what the metadata store knows of them.

The store (the ``BlobStore`` port) keeps bytes only. Here: a blob marked corrupt (``blob_states``)
is never served (``BlobCorrupt``); a whole read is checked, and rotten bytes mark the blob for every
later reader (``services/reading``); a blob's liveness is ``touched_at`` (stored, or newly needed),
which garbage collection's grace runs from; ``collect`` deletes bytes only with the blob's row
locked and untouched since the mark, so a touch either comes first (and keeps the blob) or waits
and then finds the bytes gone; ``quarantine`` sets the bytes aside and records where.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt, BlobNotFound
from hoist.domain.ports import BlobInfo, BlobStore, MetadataSession, MetadataStore
from hoist.services.base import Clock, utcnow
from hoist.services.reading import checked


class Blobs:
    def __init__(self, store: BlobStore, metadata: MetadataStore, clock: Clock = utcnow) -> None:
        self.store = store
        self._metadata = metadata
        self._clock = clock

    def _check(self, digest: Digest) -> None:
        if self._metadata.hot.blob_corrupt(str(digest)):
            raise BlobCorrupt.of(digest)

    def stat(self, digest: Digest) -> BlobInfo:
        """The stored blob's size; BlobNotFound, or BlobCorrupt when its bytes were found wrong (a
        marked blob whose bytes are gone is missing)."""
        info = self.store.stat(digest)
        self._check(digest)
        return info

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        """The blob's bytes from ``offset``. A read from offset 0 is checked: when its end is reached
        and the bytes do not hash to ``digest``, the blob is marked corrupt and the read raises
        ``BlobCorrupt`` instead of returning its end."""
        info = self.stat(digest)
        f = self.store.open(digest, offset)
        return f if offset else checked(f, digest, info.size, self.mark_corrupt)

    def path(self, digest: Digest) -> Path | None:
        """A local file holding the blob (zero-copy serving), None if there is none; BlobCorrupt."""
        path = self.store.path(digest)
        if path is None:
            try:
                self.store.stat(digest)
            except BlobNotFound:
                return None
        self._check(digest)
        return path

    def download_url(self, digest: Digest, *, expires_in: int) -> str | None:
        return self.store.download_url(digest, expires_in=expires_in)

    def digests(self) -> Iterator[Digest]:
        return self.store.digests()

    def touch(self, digest: Digest) -> bool:
        """Mark the blob as just needed, so that a garbage collection running meanwhile keeps it;
        False when it is not stored. Every path that makes a stored blob newly needed (a manifest or
        artifact naming it, a mount) touches it before it commits. The row first, then the bytes: a
        collection that was deleting them has finished by then."""
        return digest in self.touch_all([digest])

    def touch_all(self, digests: Iterable[Digest]) -> set[Digest]:
        """``touch`` each, in one unit of work: those stored."""
        wanted = list(dict.fromkeys(digests))
        with self._metadata.session() as s:
            for digest in wanted:
                s.blobs.touch(digest, now=self._clock())
        stored = set()
        for digest in wanted:
            try:
                self.store.stat(digest)
            except BlobNotFound:
                continue
            stored.add(digest)
        return stored

    def publish(
        self,
        key: str,
        digest: Digest,
        s: MetadataSession | None = None,
        *,
        before: Callable[[MetadataSession], None] | None = None,
        after: Callable[[MetadataSession], None] | None = None,
    ) -> BlobInfo:
        """Make the upload ``key`` (verified to hash to ``digest``) the blob: touched first (so that
        no collection takes it), then its bytes, then a corrupt mark lifted (whole bytes again). In
        the caller's unit of work ``s``, or in two of its own that also run ``before`` and ``after``."""
        if s is not None:
            s.blobs.touch(digest, now=self._clock())
            info = self.store.commit_upload(key, digest)
            s.blobs.clear_corrupt(digest)
            return info
        with self._metadata.session() as own:
            if before is not None:
                before(own)
            own.blobs.touch(digest, now=self._clock())
        info = self.store.commit_upload(key, digest)
        with self._metadata.session() as own:
            own.blobs.clear_corrupt(digest)
            if after is not None:
                after(own)
        return info

    def put(self, data: bytes, s: MetadataSession | None = None) -> Digest:
        """Small bytes the server makes itself (envelopes, SBOMs, the empty config); inside the
        caller's unit of work ``s`` if it has one. Their digest."""
        digest = Digest.of(data)
        key = self.store.create_upload()
        writer = self.store.append(key, 0)
        try:
            writer.write(data)
        finally:
            writer.close()
        self.publish(key, digest, s)
        return digest

    def mark_corrupt(self, digest: Digest) -> None:
        """The blob's bytes were found wrong (fsck, a checked whole read): from now on ``open``,
        ``stat`` and ``path`` raise ``BlobCorrupt`` for it, until it is stored again whole."""
        with self._metadata.session() as s:
            s.blobs.mark_corrupt(digest, now=self._clock())

    def quarantine(self, digest: Digest) -> bool:
        """Set a corrupt blob's bytes aside (kept for inspection, never served); False if not stored."""
        try:
            size = self.store.stat(digest).size
        except BlobNotFound:
            return False
        aside = self.store.set_aside(digest)
        if aside is None:
            return False
        with self._metadata.session() as s:
            s.blobs.quarantine(digest, aside=aside, size=size, now=self._clock())
        return True

    def touched(self) -> Mapping[Digest, datetime]:
        """When each blob was last stored or newly needed (blobs without a row are absent)."""
        with self._metadata.reader() as s:
            return s.blobs.touched()

    def adopt(self, digests: list[Digest]) -> int:
        """Give stored blobs without a row one, as first seen now (a data folder from before rows)."""
        with self._metadata.session() as s:
            return s.blobs.adopt(digests, now=self._clock())

    def forget(self, digests: list[Digest], *, older_than: datetime) -> None:
        """Drop the rows of blobs whose bytes are not stored, unless touched since ``older_than``."""
        with self._metadata.session() as s:
            for digest in digests:
                if s.blobs.lock_untouched(digest, since=older_than):
                    s.blobs.forget(digest)

    def collect(self, digest: Digest, *, older_than: datetime) -> int | None:
        """Garbage collection's delete: only if the blob was not touched since ``older_than``, with
        its row locked meanwhile. The bytes freed, or None: kept (touched, or gone already)."""
        with self._metadata.session() as s:
            if not s.blobs.lock_untouched(digest, since=older_than):
                return None
            try:
                size = self.store.stat(digest).size
            except BlobNotFound:
                size = None
            else:
                self.store.delete(digest)
            s.blobs.forget(digest)
        return size
