"""The audit trail: events, export, verification, history."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, Query, Request, Response
from starlette.responses import StreamingResponse

from hoist.api.schemas import ErrorBody, EventOut, VerifyOut, event_out
from hoist.domain.access import Right
from hoist.domain.errors import InvalidInput
from hoist.domain.models import ArtifactRef
from hoist.domain.names import validate_package_name
from hoist.http.identity import actor_of
from hoist.services.audit import PAGE, AuditService
from hoist.services.catalog import CatalogService
from hoist.services.guard import Guard

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404)}


def router(audit: AuditService, guard: Guard, catalog: CatalogService) -> APIRouter:
    """The whole trail needs the ``audit`` right (auditors, administrators); one package's history
    needs read on a registry holding one of its versions."""
    api = APIRouter(tags=["audit"], responses=ERRORS)

    def auditor(request: Request) -> None:
        guard.require(actor_of(request), Right.AUDIT, asked="read the audit trail", subject="audit")

    @api.get("/audit/events", response_model=list[EventOut])
    def audit_events(
        request: Request, after: int = Query(0, ge=0), limit: int = Query(PAGE, ge=1, le=PAGE)
    ) -> list[EventOut]:
        auditor(request)
        """A page of events in chain order, after sequence number ``after``."""
        return [event_out(e) for e in audit.events(after=after, limit=limit)]

    @api.get(
        "/audit/export",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}}},
    )
    def audit_export(request: Request, format: str = Query("jsonl")) -> StreamingResponse:
        """The whole chain as JSON Lines, one event per line, streamed."""
        auditor(request)
        if format != "jsonl":
            raise InvalidInput(f"unknown export format {format!r}: use jsonl")

        def lines() -> Iterator[bytes]:
            for event in audit.all_events():
                yield json.dumps(event.as_dict(), separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @api.get("/audit/verify", response_model=VerifyOut)
    def audit_verify(request: Request) -> VerifyOut:
        """Recompute the hash chain on the server and name the first broken link."""
        auditor(request)
        report = audit.verify()
        return VerifyOut(
            ok=report.ok,
            checked=report.checked,
            head=report.head,
            broken_at=report.broken_at,
            reason=report.reason,
        )

    @api.get("/audit/checkpoint", response_class=Response, responses={200: {"content": {"application/json": {}}}})
    def audit_checkpoint(request: Request) -> Response:
        """The chain's head (sequence number and hash) in a DSSE envelope signed with the server key.
        Keep it somewhere else: `hoist audit verify --checkpoint FILE` then proves the history up to it
        was not rewritten, even by someone able to recompute every hash."""
        auditor(request)
        return Response(audit.checkpoint(), media_type="application/json")

    @api.get("/history", response_model=list[EventOut])
    def artifact_history(request: Request, ref: str = Query(..., description="NAME or NAME@VERSION")) -> list[EventOut]:
        """Every event of a package, or of one of its versions."""
        target: ArtifactRef | str = ArtifactRef.parse(ref) if "@" in ref else validate_package_name(ref)
        actor = actor_of(request)
        if not actor.may(Right.AUDIT):
            package = target if isinstance(target, str) else target.package
            where = {p.registry for s in catalog.summaries(package=package) for p in s.placements}
            guard.require_read(actor, where, asked=f"read the history of {ref}", subject=ref)
        return [event_out(e) for e in audit.history(target)]

    return api
