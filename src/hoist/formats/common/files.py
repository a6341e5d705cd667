<<<<<<< HEAD
"""A stored file as a protocol's download answers it: zero-copy from a local blob (pathsend), a
307 to the object store's presigned URL, or streamed; always with Content-Length (Maven and pip
stall on a chunked answer), HEAD without a body, one Range as a 206."""
=======
"""A stored file of an artifact version as a download, on every package protocol: zero-copy from a
local file, a redirect to the blob server when one runs, else streamed; ``Range`` honoured. The
checksums recorded at ingest go along as headers clients and scripts can check."""
>>>>>>> i13-npm

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hoist.domain.models import FileEntry
<<<<<<< HEAD
=======
from hoist.http.blobserver import BlobUrls, redirect
>>>>>>> i13-npm
from hoist.http.ranges import blob_response
from hoist.services.uploads import UploadService


<<<<<<< HEAD
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
=======
async def file_response(
    request: Request, uploads: UploadService, file: FileEntry, blob_urls: BlobUrls | None, media_type: str | None = None
) -> Response:
    digest = file.digest
    where = await run_in_threadpool(uploads.locate, digest)
    headers = {"ETag": f'"{digest}"', "X-Checksum-Sha256": digest.hex}
    if (sha1 := file.checksum("sha1")) is not None:
        headers["X-Checksum-Sha1"] = sha1
    if where.url:
        return RedirectResponse(where.url, status_code=307, headers=headers)
    if where.path and (moved := redirect(blob_urls, request, digest, headers)):
        return moved
    response = blob_response(request, headers, where.info.size, where.path, lambda at: uploads.read(digest, at))
    if media_type:
        response.headers["Content-Type"] = media_type
    return response
>>>>>>> i13-npm
