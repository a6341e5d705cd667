"""One file's bytes from a request body into the blob store, for every format that receives whole
files in one request (generic PUT, Maven PUT, a PyPI upload's file part, an npm tarball).

The body streams through ``UploadService`` exactly as a /v2 upload does (batched, written and hashed
in a worker thread, the server's size cap enforced as bytes arrive), while its sha256, sha1, md5 and
sha512 are computed in the same pass. The file is committed only if the body was whole (as long as
its Content-Length said) and matches every checksum the client declared; on any failure the upload
is discarded, so nothing is left behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from hoist.domain.errors import UploadTruncated
from hoist.domain.models import FileEntry
from hoist.formats.common.checksums import Checksums, MultiHasher, check_declared
from hoist.http.streaming import declared_length, receive_into
from hoist.services.uploads import UploadService, UploadSession

OCTETS = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Ingested:
    """A file now in the blob store (keyed by ``entry.digest``, its sha256) and all its checksums."""

    entry: FileEntry
    checksums: Checksums


async def ingest(
    request: Request,
    uploads: UploadService,
    *,
    name: str,
    media_type: str = OCTETS,
    declared: Mapping[str, str] | None = None,
) -> Ingested:
    """Store the request body as the file ``name``. ``declared``: checksums the client sent (by
    algorithm, hex), which the bytes must match (DigestMismatch). TooLarge over the server's
    upload cap, UploadTruncated when the body ends before its Content-Length."""
    length = declared_length(request)
    hashing = MultiHasher()
    session = await run_in_threadpool(uploads.open, None, length=length, tap=hashing.update)
    try:
        try:
            await receive_into(request, session)
        except UploadTruncated:  # the client went away; unlike a /v2 upload, this one is not resumable
            raise UploadTruncated(f"the body ended after {session.size} bytes: nothing was stored") from None
        if length is not None and session.size != length:
            raise UploadTruncated(f"the request declared {length} bytes but carried {session.size}: nothing was stored")
        return await _commit(session, hashing, name, media_type, declared)
    except BaseException:
        session.cancel()
        raise


async def ingest_chunks(
    uploads: UploadService,
    chunks: AsyncIterable[bytes],
    *,
    name: str,
    media_type: str = OCTETS,
    declared: Mapping[str, str] | None = None,
) -> Ingested:
    """``ingest`` for a file that is not a whole request body (a multipart form's file part, an
    npm tarball decoded from its JSON document), under the same cap and rules."""
    hashing = MultiHasher()
    session = await run_in_threadpool(uploads.open, None, tap=hashing.update)
    try:
        async for chunk in chunks:
            if chunk:
                await run_in_threadpool(session.write, chunk)
        return await _commit(session, hashing, name, media_type, declared)
    except BaseException:
        session.cancel()
        raise


async def _commit(
    session: UploadSession, hashing: MultiHasher, name: str, media_type: str, declared: Mapping[str, str] | None
) -> Ingested:
    checksums = hashing.result()
    check_declared(checksums, declared or {})
    info = await run_in_threadpool(session.commit, checksums.digest)
    return Ingested(FileEntry(name, info.digest, info.size, media_type), checksums)
