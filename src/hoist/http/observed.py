"""The outermost middleware: every request gets an id (``X-Request-Id``: the one a load balancer sent,
when it is plain and short, else a new one), answered back in the same header, set as context for
the audit events and log lines the request causes, and counted for ``/metrics`` once answered."""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hoist.domain.requests import REQUEST_ID, acceptable_request_id
from hoist.http import metrics

HEADER = b"x-request-id"
PREFIXES = ("/api/v1",)  # routers included under a prefix
ROOMS = frozenset({"v2", "api", "npm", "pypi", "maven", "generic", "ui", "metrics", "healthz", "readyz"})


def route_of(scope: Scope) -> str:
    """The template the request matched, or the room it fell in: a label of bounded variety. A
    router included under a prefix (the API's /api/v1) reports its own template: the prefix is
    put back."""
    path: str = scope.get("path", "/")
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str) and template.startswith("/"):
        prefix = next((p for p in PREFIXES if path.startswith(p + "/") and not template.startswith(p + "/")), "")
        return prefix + template
    first = path.split("/", 2)[1]
    return f"/{first}" if first in ROOMS else "other"


class Observed:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == HEADER), None)
        request_id = given if given is not None and acceptable_request_id(given) else uuid.uuid4().hex
        echoed = (HEADER, request_id.encode())
        status, received, sent, declared = 500, 0, 0, 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return message

        async def observing_send(message: Message) -> None:
            nonlocal status, sent, declared
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                declared = next((int(v) for k, v in headers if k == b"content-length" and v.isdigit()), 0)
                message = {**message, "headers": [*headers, echoed]}
            elif kind == "http.response.body":
                sent += len(message.get("body", b""))
            elif kind == "http.response.pathsend":  # a file sent zero-copy: as long as it said
                sent += declared
            await send(message)

        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        try:
            await self.app(scope, counting_receive, observing_send)
        finally:
            REQUEST_ID.reset(token)
            metrics.observe(route_of(scope), scope.get("method", ""), status, time.perf_counter() - start, received, sent)
