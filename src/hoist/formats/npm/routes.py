"""The npm registry at ``/npm/<registry>/``: one route that reads what npm asks for (``paths``)
and hands it to its endpoint; errors come back as npm prints them (``{"error": "..."}``), the
way the edge answers them (``formats/common/edge.NPM``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hoist.domain.errors import HoistError, NotFound
from hoist.domain.names import clip
from hoist.domain.policy import Policy
from hoist.formats.common.edge import NPM
from hoist.formats.npm.paths import Kind, Target, parse

Handler = Callable[[Request, str, Target], Awaitable[Response]]
Handlers = Mapping[tuple[Kind, str], Handler]
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]


def npm_app(policy: Policy, *endpoints: Handlers) -> Starlette:
    table: dict[tuple[Kind, str], Handler] = {}
    for handlers in endpoints:
        table.update(handlers)

    async def dispatch(request: Request) -> Response:
        registry = request.path_params["registry"]
        try:
            policy.registry(registry)
            target = parse(request.path_params.get("rest", ""))
            handler = table.get((target.kind, request.method))
            if handler is None:
                raise NotFound(f"npm asks for no {request.method} on {clip(request.url.path)!r}: Hoist answers none")
            return await handler(request, registry, target)
        except HoistError as exc:
            return NPM.refusal(exc, request.scope)

    return Starlette(
        routes=[
            Route("/npm/{registry}/", dispatch, methods=METHODS),
            Route("/npm/{registry}/{rest:path}", dispatch, methods=METHODS),
        ]
    )
