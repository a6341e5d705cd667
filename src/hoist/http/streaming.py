"""Feed a streamed request body into an upload without holding it in memory.

Chunks from the ASGI server are gathered into ~1 MiB batches and written (and hashed) in a worker
thread: the event loop keeps serving other requests, and hashing releases the GIL, so a second
core does the hashing while the loop receives the next batch.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from hoist.domain.errors import UploadTruncated
from hoist.services.uploads import UploadSession

BATCH = 1024 * 1024


async def receive_into(request: Request, session: UploadSession) -> None:
    """Append the whole body to ``session``; on a broken body the upload stays resumable."""
    pending: list[bytes] = []
    pending_size = 0
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= BATCH:
                await run_in_threadpool(session.write, b"".join(pending))
                pending, pending_size = [], 0
        if pending:
            await run_in_threadpool(session.write, b"".join(pending))
    except ClientDisconnect:
        session.close()
        raise UploadTruncated(
            f"the client went away mid-upload; the upload is kept at {session.size} bytes and can be resumed",
            upload_id=session.upload_id,
            offset=session.size,
        ) from None


def declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None
