"""Feed a streamed request body into an upload without holding it in memory.

Chunks from the ASGI server are gathered into batches that a worker thread writes (and hashes)
while the event loop already receives the next batch: at most two batches per upload are in memory,
and the loop keeps serving other requests. Hashing and file writes release the GIL, so they run on
another core.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from hoist.domain.errors import InvalidInput, UploadOutOfOrder, UploadTruncated
from hoist.services.uploads import UploadService, UploadSession

_CONTENT_RANGE = re.compile(r"(?:bytes[= ])?(\d+)-(\d+)(?:/(?:\d+|\*))?")

BATCH = 4 * 1024 * 1024


async def receive_into(request: Request, session: UploadSession) -> None:
    """Append the whole body to ``session``; on a broken body the upload stays resumable."""
    pending: list[bytes] = []
    pending_size = 0
    writing: asyncio.Future[None] | None = None
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= BATCH:
                batch = b"".join(pending)
                pending, pending_size = [], 0
                if writing is not None:
                    await writing  # writes stay in order; a failure (e.g. over the limit) surfaces here
                writing = asyncio.ensure_future(run_in_threadpool(session.write, batch))
        if writing is not None:
            await writing
        if pending:
            await run_in_threadpool(session.write, b"".join(pending))
    except BaseException as exc:
        # never leave a write running behind our back: the caller closes the upload next
        if writing is not None and not writing.done():
            with contextlib.suppress(BaseException):
                await asyncio.shield(writing)
        if isinstance(exc, ClientDisconnect):
            session.close()
            raise UploadTruncated(
                f"the client went away mid-upload; the upload is kept at {session.size} bytes and can be resumed",
                upload_id=session.upload_id,
                offset=session.size,
            ) from None
        raise


def declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None


def chunk_offset(request: Request) -> int | None:
    """Where the client says this chunk starts: ``Upload-Offset``, or ``Content-Range: <start>-<end>``
    (the OCI form, also accepted with a ``bytes`` prefix)."""
    if "upload-offset" in request.headers:
        try:
            return int(request.headers["upload-offset"])
        except ValueError:
            raise InvalidInput("Upload-Offset must be a number of bytes") from None
    value = request.headers.get("content-range")
    if value is None:
        return None
    m = _CONTENT_RANGE.fullmatch(value.strip())
    if not m:
        raise InvalidInput("Content-Range must be <start>-<end>")
    if int(m[2]) < int(m[1]):  # as a GET's reversed Range is a 416 (hoist.domain.ranges), so is a chunk's
        raise UploadOutOfOrder(f"Content-Range {value} ends before it starts")
    return int(m[1])


async def receive_upload(request: Request, uploads: UploadService, upload_id: str | None) -> UploadSession:
    """Open the upload (a new one if ``upload_id`` is None) where the client says this chunk starts,
    and append the request body to it. On any failure the upload is left closed and resumable."""
    session = await run_in_threadpool(uploads.open, upload_id, offset=chunk_offset(request), length=declared_length(request))
    try:
        await receive_into(request, session)
        session.check_complete()
    except BaseException:
        session.close()
        raise
    return session
