"""A stored file as a protocol's download answers it: zero-copy from a local blob (pathsend), a
307 to the object store's presigned URL, or streamed; always with Content-Length (Maven and pip
stall on a chunked answer), HEAD without a body, one Range as a 206."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hoist.domain.models import FileEntry
from hoist.http.ranges import blob_response
from hoist.services.uploads import UploadService


async def file_response(request: Request, uploads: UploadService, entry: FileEntry, headers: dict[str, str]) -> Response:
    where = await run_in_threadpool(uploads.locate, entry.digest)
    headers = {"ETag": f'"{entry.digest}"', **headers}
    if where.url:
        return RedirectResponse(where.url, status_code=307, headers=headers)
    return blob_response(request, headers, where.info.size, where.path, lambda at: uploads.read(entry.digest, at))


def bytes_response(request: Request, body: bytes, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """A small document the server made (an index, metadata, a checksum): HEAD gets its length only."""
    headers = {**(headers or {}), "Content-Length": str(len(body))}
    return Response(b"" if request.method == "HEAD" else body, media_type=media_type, headers=headers)
