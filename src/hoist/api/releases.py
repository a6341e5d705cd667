"""Promotions, attestations and approvals."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import (
    ApprovalOut,
    ApproveIn,
    AttachmentOut,
    AttestIn,
    ErrorBody,
    PromoteIn,
    PromotionOut,
    artifact_out,
    attachment_out,
)
from hoist.domain.models import ArtifactRef, Result
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.evidence import EvidenceService
from hoist.services.promotion import PromotionService

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 403, 404, 409)}


def router(promotions: PromotionService, evidence: EvidenceService) -> APIRouter:
    api = APIRouter(tags=["promotion and evidence"], responses=ERRORS, route_class=BoundedRoute)

    @api.post("/promotions", status_code=201, response_model=PromotionOut)
    def promote(body: PromoteIn, request: Request, response: Response) -> PromotionOut:
        """Promote by digest: zero-copy, atomic, idempotent (200 when already there or a dry run).
        409 PROMOTION_REFUSED lists every unmet gate in ``details.problems``."""
        result = promotions.promote(
            ArtifactRef.parse(body.ref),
            to=body.to,
            actor=actor_of(request),
            dry_run=body.dry_run,
            reason=body.reason,
            pipeline=pipeline_of(request),
        )
        if result.status != "promoted":
            response.status_code = 200
        return PromotionOut(
            status=result.status,
            to=result.to,
            sealed=result.sealed,
            gates=list(result.gates),
            artifact=artifact_out(result.artifact),
        )

    @api.post("/attestations", status_code=201, response_model=AttachmentOut)
    def attest(body: AttestIn, request: Request) -> AttachmentOut:
        """Attach a typed result to the artifact's digest, given directly or derived from JUnit XML."""
        attachment = evidence.attest(
            ArtifactRef.parse(body.ref),
            type=body.type,
            actor=actor_of(request),
            result=Result(body.result) if body.result else None,
            junit=body.junit.encode() if body.junit is not None else None,
            environment=body.environment,
            pipeline=pipeline_of(request),
            envelope=body.envelope.encode() if body.envelope is not None else None,
        )
        return attachment_out(attachment)

    @api.post("/approvals", status_code=201, response_model=ApprovalOut)
    def approve(body: ApproveIn, request: Request, response: Response) -> ApprovalOut:
        """Approve the artifact for an environment; the pusher's own approval is kept but does not count."""
        result = evidence.approve(
            ArtifactRef.parse(body.ref),
            environment=body.environment,
            actor=actor_of(request),
            comment=body.comment,
            pipeline=pipeline_of(request),
            envelope=body.envelope.encode() if body.envelope is not None else None,
        )
        if not result.created:
            response.status_code = 200
        return ApprovalOut(
            approval=attachment_out(result.attachment),
            counts=result.counts,
            note=result.note,
            released_hold=result.released_hold,
            created=result.created,
        )

    return api
