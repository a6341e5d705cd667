"""A stored file of an artifact version as every package protocol downloads it, through the one
blob-serving piece (``http.blobs``): a small blob proved whole first, zero-copy from a local file, a
redirect to the blob server or a presigned store URL (unless the client follows none), one Range as
a 206; always with Content-Length (Maven and pip stall on a chunked answer) and the checksums
recorded at ingest as headers clients and scripts can check."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hoist.domain.models import FileEntry
from hoist.formats.common.checksum_headers import checksum_headers
from hoist.http.blobs import BlobResponses


def known_checksums(file: FileEntry) -> dict[str, str]:
    """Every checksum recorded for the file, its digest included, by algorithm."""
    return {file.digest.algorithm: file.digest.hex, **dict(file.checksums)}


async def file_response(
    request: Request,
    blobs: BlobResponses,
    file: FileEntry,
    headers: Mapping[str, str] | None = None,
    *,
    media_type: str | None = None,
    redirect: bool = True,
) -> Response:
    sent = {"ETag": f'"{file.digest}"', **checksum_headers(known_checksums(file)), **(headers or {})}
    if media_type is None:
        return await run_in_threadpool(blobs.respond, request, file.digest, sent, redirect=redirect)
    return await run_in_threadpool(blobs.respond, request, file.digest, sent, media_type=media_type, redirect=redirect)


def bytes_response(request: Request, body: bytes, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """A small document the server made (an index, metadata, a checksum): HEAD gets its length only."""
    headers = {**(headers or {}), "Content-Length": str(len(body))}
    return Response(b"" if request.method == "HEAD" else body, media_type=media_type, headers=headers)
