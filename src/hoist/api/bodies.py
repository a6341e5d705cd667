"""Every /api/v1 route reads its body under a cap, and parses JSON with the bounded reader.

FastAPI reads and parses a route's JSON body itself (``json.loads``, no limit) before the endpoint
or any dependency runs; ``BoundedRoute`` puts the cap and ``read_json`` in front of that, so a
refusal is Hoist's error shape (413 TOO_LARGE, 400 INVALID_INPUT) and nothing is read past the cap.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope

from hoist.domain.jsonlimits import ADVISORY_BYTES, API_BODY_BYTES, SBOM_BYTES, read_json
from hoist.http.bodies import capped, check_declared_length

# Routes that need more than API_BODY_BYTES, by endpoint name; None: the body is blob bytes, streamed
# to the upload service, which enforces max_upload_bytes as it writes (never held in memory).
BODY_LIMITS: dict[str, int | None] = {
    "attach_sbom": SBOM_BYTES,
    "import_advisories": ADVISORY_BYTES,
    "start_upload": None,
    "append_upload": None,
    "commit_upload": None,
}


class BoundedRequest(Request):
    def __init__(self, scope: Scope, receive: Receive, limit: int) -> None:
        super().__init__(scope, receive)
        self._limit = limit
        self._document: Any = None
        self._parsed = False

    async def json(self) -> Any:
        if not self._parsed:
            self._document = read_json(await self.body(), limit=self._limit, where="the request body")
            self._parsed = True
        return self._document


class BoundedRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = BODY_LIMITS.get(self.name, API_BODY_BYTES)
        if limit is None:
            return handler
        takes_json = self.body_field is not None

        async def bounded(request: Request) -> Response:
            check_declared_length(request.headers, limit)
            inner = BoundedRequest(request.scope, capped(request.receive, limit), limit)
            if takes_json and await inner.body():
                await inner.json()  # refused here: inside FastAPI's handler it would be its own 400
            return await handler(inner)

        return bounded
