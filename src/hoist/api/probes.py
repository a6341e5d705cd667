"""What a load balancer and Prometheus ask: ``/healthz`` (the process answers), ``/readyz`` (it can
serve: database reachable, schema current, blob store reachable; 503 with Retry-After otherwise),
``/metrics`` (Prometheus's text format, for any authenticated principal: a robot token with no
grants is enough)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hoist.domain.errors import Unauthenticated
from hoist.http import metrics
from hoist.http.identity import actor_of

Checks = Callable[[], Mapping[str, str | None]]  # per part, None when fine, else what is wrong


def router(readiness: Checks, probes: Iterable[metrics.Probe]) -> APIRouter:
    api = APIRouter(include_in_schema=False)
    read_at_scrape = tuple(probes)

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz() -> JSONResponse:
        found = await run_in_threadpool(readiness)
        failed = {part: why for part, why in found.items() if why is not None}
        checks = {part: (why or "ok") for part, why in found.items()}
        if failed:
            return JSONResponse({"status": "unavailable", "checks": checks}, 503, headers={"Retry-After": "5"})
        return JSONResponse({"status": "ready", "checks": checks})

    @api.get("/metrics")
    async def scrape(request: Request) -> Response:
        if not actor_of(request).authenticated:
            raise Unauthenticated("/metrics needs a token: give Prometheus one (a robot with no grants is enough)")
        body = await run_in_threadpool(metrics.exposition, read_at_scrape)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    return api
