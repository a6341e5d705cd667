"""A stored file of an artifact version as every package protocol downloads it, through the one
blob-serving piece (``http.blobs``): a small blob proved whole first, zero-copy from a local file, a
redirect to the blob server or a presigned store URL (unless the client follows none), one Range as
a 206; always with Content-Length (Maven and pip stall on a chunked answer) and the checksums
recorded at ingest as headers clients and scripts can check."""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
    return await run_in_threadpool(_respond, request, blobs, file, headers, media_type, redirect)


async def download(
    request: Request,
    blobs: BlobResponses,
    opening: Callable[[bool], FileEntry],
    *,
    own_media_type: bool = False,
    redirect: bool = True,
) -> Response:
    """``opening(downloading)`` (``PackageService.open_file``: rights, signatures, the audited
    download) and the answer with the file's bytes, in one worker-thread hop. ``downloading`` is
    False for a HEAD: checked the same way, but no byte leaves, so no download is audited.
    ``own_media_type``: the file's recorded media type rather than octets."""
    downloading = request.method != "HEAD"

    def both() -> Response:
        file = opening(downloading)
        return _respond(request, blobs, file, None, file.media_type if own_media_type else None, redirect)

    return await run_in_threadpool(both)


def _respond(
    request: Request,
    blobs: BlobResponses,
    file: FileEntry,
    headers: Mapping[str, str] | None,
    media_type: str | None,
    redirect: bool,
) -> Response:
    sent = {"ETag": f'"{file.digest}"', **checksum_headers(known_checksums(file)), **(headers or {})}
    if media_type is None:
        return blobs.respond(request, file.digest, sent, redirect=redirect)
    return blobs.respond(request, file.digest, sent, media_type=media_type, redirect=redirect)


def bytes_response(request: Request, body: bytes, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """A small document the server made (an index, metadata, a checksum): HEAD gets its length only."""
    headers = {**(headers or {}), "Content-Length": str(len(body))}
    return Response(b"" if request.method == "HEAD" else body, media_type=media_type, headers=headers)
