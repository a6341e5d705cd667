"""The audit trail: events, export, verification, history."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, Query, Request, Response
from starlette.responses import StreamingResponse

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import ErrorBody, EventOut, VerifyOut, event_out
from hoist.domain.errors import InvalidInput
from hoist.domain.events import CHECKPOINT_MARK, HEAD_MARK
from hoist.domain.models import ArtifactRef
from hoist.domain.names import validate_package_name
from hoist.http.identity import actor_of
from hoist.services.audit import PAGE, AuditService

MARK_HEADERS = {HEAD_MARK: "Hoist-Audit-Head", CHECKPOINT_MARK: "Hoist-Audit-Checkpoint"}
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404)}


def router(audit: AuditService) -> APIRouter:
    api = APIRouter(tags=["audit"], responses=ERRORS, route_class=BoundedRoute)

    @api.get("/audit/events", response_model=list[EventOut])
    def audit_events(
        request: Request, after: int = Query(0, ge=0), limit: int = Query(PAGE, ge=1, le=PAGE)
    ) -> list[EventOut]:
        """A page of events in chain order, after sequence number ``after``."""
        return [event_out(e) for e in audit.events(actor=actor_of(request), after=after, limit=limit)]

    @api.get(
        "/audit/export",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}}},
    )
    def audit_export(request: Request, format: str = Query("jsonl")) -> StreamingResponse:
        """The whole chain as JSON Lines, one event per line, streamed. ``Hoist-Audit-Head`` and
        ``Hoist-Audit-Checkpoint`` (``<seq> <hash>``) name the recorded head and the latest signed
        checkpoint, read before the events: the chain must pass through both, or its tail was cut."""
        if format != "jsonl":
            raise InvalidInput(f"unknown export format {format!r}: use jsonl")
        actor = actor_of(request)
        marks = audit.marks(actor=actor)  # checked here, before the stream starts
        events = audit.all_events(actor=actor)

        def lines() -> Iterator[bytes]:
            for event in events:
                yield json.dumps(event.as_dict(), separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

        headers = {MARK_HEADERS[m.name]: f"{m.seq} {m.hash}" for m in marks}
        return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)

    @api.get("/audit/verify", response_model=VerifyOut)
    def audit_verify(request: Request) -> VerifyOut:
        """Recompute the hash chain on the server and name the first broken link."""
        report = audit.verify(actor=actor_of(request))
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
        return Response(audit.checkpoint(actor=actor_of(request)), media_type="application/json")

    @api.get("/history", response_model=list[EventOut])
    def artifact_history(request: Request, ref: str = Query(..., description="NAME or NAME@VERSION")) -> list[EventOut]:
        """Every event of a package, or of one of its versions."""
        target: ArtifactRef | str = ArtifactRef.parse(ref) if "@" in ref else validate_package_name(ref)
        return [event_out(e) for e in audit.history(target, actor=actor_of(request))]

    return api
