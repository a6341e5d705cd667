"""Blob bytes as a request's ``Range`` asks (read by ``hoist.domain.ranges``, the one parser): the
whole blob, zero-copy from a local file where the store has one, or one range as a 206.

A range that cannot be served raises ``RangeNotSatisfiable``; each protocol's error handler turns
it into a 416 in its own error shape, with ``range_headers``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from hoist.domain.ranges import parse_range

OCTETS = "application/octet-stream"
CHUNK = 1024 * 1024


def blob_response(
    request: Request,
    headers: dict[str, str],
    size: int,
    path: str | None,
    read: Callable[[int], BinaryIO] | bytes,
    *,
    media_type: str = OCTETS,
) -> Response:
    """``read(offset)`` opens the blob at an offset, or ``read`` is its (checked) bytes; ``path`` is
    its local file, if any."""
    wanted = parse_range(request.headers.get("range"), size)
    headers = {**headers, "Accept-Ranges": "bytes"}
    if isinstance(read, bytes):
        if wanted is not None:
            headers["Content-Range"] = wanted.content_range
            read = read[wanted.start : wanted.start + wanted.length]
        body = b"" if request.method == "HEAD" else read
        answer = Response(body, 200 if wanted is None else 206, headers, media_type=media_type)
        answer.headers["Content-Length"] = str(len(read))  # a HEAD says what a GET would send
        return answer
    if wanted is None:
        if path is not None:
            return _WholeFile(path, media_type=media_type, headers=headers)
        return _stream(request, read(0), size, 200, headers, media_type)
    headers["Content-Range"] = wanted.content_range
    return _stream(request, read(wanted.start), wanted.length, 206, headers, media_type)


class _WholeFile(FileResponse):
    """A FileResponse (pathsend: zero-copy) that leaves Range to ``parse_range``: Starlette's own
    reading answers a reversed range with 400 text/plain and several ranges with multipart."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope["headers"] if k not in {b"range", b"if-range"}]
        await super().__call__({**scope, "headers": headers}, receive, send)


def _stream(request: Request, f: BinaryIO, length: int, status: int, headers: dict[str, str], media_type: str) -> Response:
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        f.close()
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(_chunks(f, length), status, headers, media_type=media_type)


def _chunks(f: BinaryIO, length: int) -> Iterator[bytes]:
    with f:
        while length > 0:
            chunk = f.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
