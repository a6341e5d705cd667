"""Bytes arriving through a package protocol, into the blob store, written once for every room.

A file comes as a request body (``curl -T``, Maven's PUT), a multipart part (twine) or decoded bytes
(npm's base64 attachment). Each is streamed into a one-shot upload while md5, sha1 and sha512 are
computed in the same pass (the checksums Maven, npm and generic clients ask for), then committed
under its sha256. A body that ends short, runs over the cap or fails on the way leaves nothing
behind: the upload is discarded, never resumable (these protocols cannot resume).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from hoist.domain.digests import Digest
from hoist.domain.errors import UploadTruncated
from hoist.domain.models import CHECKSUM_ALGORITHMS, FileEntry
from hoist.http.streaming import declared_length
from hoist.services.uploads import UploadService, UploadSession

BATCH = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Received:
    """A committed blob and every checksum of its bytes (hex), sha256 included."""

    digest: Digest
    size: int
    checksums: dict[str, str]

    def entry(self, name: str, media_type: str = "application/octet-stream") -> FileEntry:
        others = tuple(sorted((alg, self.checksums[alg]) for alg in CHECKSUM_ALGORITHMS))
        return FileEntry(name, self.digest, self.size, media_type, others)


class _Hashing:
    """Writes into the upload and keeps every checksum up to date, in the same worker thread."""

    def __init__(self, session: UploadSession) -> None:
        self.session = session
        self.hashers = {alg: hashlib.new(alg) for alg in ("sha256", *CHECKSUM_ALGORITHMS)}
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.session.write(chunk)
        for h in self.hashers.values():
            h.update(chunk)
        self.size += len(chunk)

    def commit(self) -> Received:
        checksums = {alg: h.hexdigest() for alg, h in self.hashers.items()}
        digest = Digest("sha256", checksums["sha256"])
        info = self.session.commit(digest)
        return Received(info.digest, info.size, checksums)


async def receive_stream(chunks: AsyncIterable[bytes], uploads: UploadService, *, declared: int | None = None) -> Received:
    """Store what ``chunks`` yields; with ``declared``, a body that ends short is refused."""
    session = await run_in_threadpool(uploads.open, None, length=declared)
    hashing = _Hashing(session)
    try:
        pending: list[bytes] = []
        pending_size = 0
        async for chunk in chunks:
            if not chunk:
                continue
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= BATCH:
                batch, pending, pending_size = b"".join(pending), [], 0
                await run_in_threadpool(hashing.write, batch)
        if pending:
            await run_in_threadpool(hashing.write, b"".join(pending))
        if declared is not None and hashing.size != declared:
            raise UploadTruncated(f"the request declared {declared} bytes but carried {hashing.size}; nothing was stored")
        return await run_in_threadpool(hashing.commit)
    except ClientDisconnect:
        await run_in_threadpool(session.cancel)
        raise UploadTruncated(f"the client went away after {hashing.size} bytes; nothing was stored") from None
    except BaseException:
        await run_in_threadpool(session.cancel)
        raise


async def receive_body(request: Request, uploads: UploadService) -> Received:
    """Store the request body (a PUT of one file)."""
    return await receive_stream(request.stream(), uploads, declared=declared_length(request))


def store_bytes(data: bytes | Iterable[bytes], uploads: UploadService) -> Received:
    """Store bytes already in hand (a decoded npm attachment, a file read out of a wheel), in the
    calling thread."""
    parts = [data] if isinstance(data, bytes) else data
    session = uploads.open(None)
    hashing = _Hashing(session)
    try:
        for part in parts:
            hashing.write(part)
        return hashing.commit()
    except BaseException:
        session.cancel()
        raise
