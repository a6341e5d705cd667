"""A synchronous httpx transport into an ASGI app, so that Hoist's own (sync) client library can
drive the real app in-process. Request bodies are read before dispatch; exceptions the app does
not handle propagate to the test, so a 500 never hides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack
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
