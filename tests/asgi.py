"""A synchronous httpx transport into an ASGI app, so that Hoist's own (sync) client library can
drive the real app in-process. Request bodies are read before dispatch; exceptions the app does
not handle propagate to the test, so a 500 never hides. ``play`` speaks raw ASGI instead, counting
the body bytes the app pulls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import anyio.from_thread
import httpx


class SyncASGITransport(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        content: bytes | AsyncIterator[bytes] = body
        if "content-length" not in request.headers:  # keep a streamed body streamed (no length)

            async def stream() -> AsyncIterator[bytes]:
                yield body

            content = stream()
        replay = httpx.Request(request.method, request.url, headers=request.headers, content=content)
        return self._portal.call(self._send, replay, request)

    async def _send(self, request: httpx.Request, original: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(content), request=original
        )

    def close(self) -> None:
        self._stack.close()


@dataclass
class Exchange:
    """One request played into the app: the body is offered in chunks, and every chunk the app
    pulls is counted."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    pulled: int = 0


def play(app: Any, method: str, path: str, chunks: int, chunk: bytes, headers: dict[str, str]) -> Exchange:
    seen = Exchange()
    remaining = chunks

    async def receive() -> dict[str, Any]:
        nonlocal remaining
        if remaining == 0:
            return {"type": "http.request", "body": b"", "more_body": False}
        remaining -= 1
        seen.pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": remaining > 0}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.status = message["status"]
            seen.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            seen.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
    }
    asyncio.run(app(scope, receive, send))
    return seen
