"""Request bodies read under a cap: a declared Content-Length over the cap is refused before a byte
is read, and a streamed (chunked) body is counted as it arrives and refused once it passes the cap,
so that no request makes the server hold more than the cap in memory."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive

from hoist.domain.errors import InvalidInput, TooLarge


def check_declared_length(headers: Headers, limit: int, what: str = "the request body") -> None:
    value = headers.get("content-length")
    if value is None:
        return
    if not value.isdigit():
        raise InvalidInput(f"Content-Length {value[:40]!r} is not a number of bytes")
    if int(value) > limit:
        raise TooLarge(f"{what} is {int(value)} bytes; at most {limit} are accepted here", limit=limit)


def capped(receive: Receive, limit: int, what: str = "the request body") -> Receive:
    """``receive`` that raises TooLarge as soon as the body it has passed on exceeds ``limit``."""
    received = 0

    async def receive_capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise TooLarge(f"{what} is over the {limit} bytes accepted here", limit=limit)
        return message

    return receive_capped


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body of a small request, refused (TooLarge) past ``limit`` bytes."""
    check_declared_length(request.headers, limit)
    return await Request(request.scope, capped(request.receive, limit)).body()
