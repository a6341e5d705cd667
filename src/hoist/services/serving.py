"""What a blob GET answers with, on every path that serves blobs (/v2, /api/v1, the blob server).

A blob of at most ``CHECKED_UP_TO`` bytes is re-hashed before the answer: rotten bytes are marked
corrupt (by the store's checked whole read) and the request gets ``BlobCorrupt``, never a 200. One of
at most ``INLINE_UP_TO`` bytes is answered with the very bytes that were checked (``data``): no
redirect, no second read; a client fetching many small files (pip, Maven, npm) saves a round trip
and a connection per file. A larger blob is served as it is (zero-copy from a local file, or
streamed through the store's checked reader, which marks it corrupt when the stream ends wrong):
checking gigabytes before the first byte would stall every pull, so those are caught by fsck,
``hoist verify`` and the next whole read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hoist.domain.digests import Digest
from hoist.domain.ports import BlobInfo
from hoist.services.blobs import Blobs
from hoist.services.integrity import read_through

CHECKED_UP_TO = 4 * 1024 * 1024  # a few milliseconds of hashing; manifests' configs and most signatures fit
INLINE_UP_TO = 1024 * 1024  # held in memory while it is answered: most poms, wheels, tarballs, configs


@dataclass(frozen=True, slots=True)
class BlobLocation:
    """Where to serve a blob from: its checked bytes (small), a local path (zero-copy), a presigned
    URL, or none of these (stream)."""

    info: BlobInfo
    path: str | None
    url: str | None
    data: bytes | None = None


def locate(blobs: Blobs, digest: Digest, *, expires_in: int = 300) -> BlobLocation:
    """Where to serve ``digest`` from, once a small blob proved whole. BlobNotFound, BlobCorrupt."""
    info = blobs.stat(digest)
    if info.size <= INLINE_UP_TO:
        with blobs.open(digest) as f:  # the store verifies a whole read, marks and raises if wrong
            data = f.read()
        return BlobLocation(info, None, None, data)
    _check_small(blobs, info)
    path = blobs.path(digest)
    return BlobLocation(info, str(path) if path else None, blobs.download_url(digest, expires_in=expires_in))


def local_path(blobs: Blobs, digest: Digest) -> Path | None:
    """The file the blob server sends, once a small blob proved whole; None when not stored."""
    path = blobs.path(digest)
    if path is not None:
        _check_small(blobs, blobs.stat(digest))
    return path


def _check_small(blobs: Blobs, info: BlobInfo) -> None:
    if info.size > CHECKED_UP_TO:
        return
    read_through(blobs, info.digest)  # the store verifies a whole read, marks and raises if wrong
