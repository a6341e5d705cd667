"""Marks on a version in one registry: ``yanked`` (PEP 592, shown by the PyPI view) and
``deprecated`` (npm's deprecate). Set with PUT, cleared with DELETE; the files never change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import ErrorBody, MarkIn
from hoist.domain.errors import InvalidInput
from hoist.domain.models import ArtifactRef, MarkKind
from hoist.http.identity import actor_of
from hoist.services.packages import PackageService

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 403, 404)}


def _version_ref(ref: str) -> ArtifactRef:
    parsed = ArtifactRef.parse(ref)
    if parsed.version is None:
        raise InvalidInput(f"{ref!r}: a mark belongs to a version (NAME@VERSION), not a digest")
    return parsed


def router(packages: PackageService) -> APIRouter:
    api = APIRouter(tags=["artifacts"], responses=ERRORS, route_class=BoundedRoute)

    @api.put("/artifacts/{ref:path}/marks/{kind}")
    async def set_mark(ref: str, kind: MarkKind, body: MarkIn, request: Request) -> dict[str, Any]:
        """Mark NAME@VERSION in one registry, with an optional message (the yank reason, the deprecation text)."""
        parsed = _version_ref(ref)
        await run_in_threadpool(
            packages.mark, body.registry, parsed.package, str(parsed.version), kind, body.message or "", actor_of(request)
        )
        return {"ref": str(parsed), "registry": body.registry, "kind": kind, "message": body.message}

    @api.delete("/artifacts/{ref:path}/marks/{kind}")
    async def clear_mark(ref: str, kind: MarkKind, request: Request, registry: str = Query(...)) -> dict[str, Any]:
        """Clear the mark of NAME@VERSION in one registry."""
        parsed = _version_ref(ref)
        await run_in_threadpool(packages.mark, registry, parsed.package, str(parsed.version), kind, None, actor_of(request))
        return {"ref": str(parsed), "registry": registry, "kind": kind, "message": None}

    return api
