"""Small request bodies (a checksum file, an uploaded index) read whole, under a cap."""

from __future__ import annotations

from starlette.requests import Request

from hoist.domain.errors import TooLarge
from hoist.http.bodies import check_declared_length


async def read_bounded(request: Request, limit: int, what: str) -> bytes:
    """The whole body; ``TooLarge`` before a byte is read when Content-Length says it is over ``limit``,
    else as soon as the bytes that came pass it."""
    check_declared_length(request.headers, limit, what)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"{what} is over the {limit} bytes accepted here", limit=limit)
    return bytes(body)
