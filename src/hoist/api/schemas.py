"""The JSON shapes of /api/v1, and how domain records turn into them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hoist.domain import models as m
from hoist.domain.events import AuditEvent
from hoist.domain.names import NOTE_CHARS
from hoist.domain.principals import Token
from hoist.services.administration import AccessReport, Identity, TeamView, UserView
from hoist.services.catalog import ArtifactDetails, ArtifactSummary


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorInfo(Model):
    code: str = Field(description="stable machine code, e.g. VERSION_EXISTS or PROMOTION_REFUSED")
    message: str
    details: dict[str, Any] = {}


class ErrorBody(Model):
    error: ErrorInfo


# -- requests ---------------------------------------------------------------------------------


class FileIn(Model):
    name: str
    digest: str
    size: int = Field(ge=0)
    media_type: str = "application/octet-stream"


class PublishIn(Model):
    registry: str = "dev"
    package: str
    version: str
    build: int | Literal["auto"] | None = Field(None, description="a build number, or 'auto' for the next one")
    max_env: str | None = None
    files: list[FileIn] = Field(min_length=1, max_length=1000)


class MarkIn(Model):
    registry: str
    message: str | None = Field(None, max_length=NOTE_CHARS, description="the yank reason or deprecation text")


class PromoteIn(Model):
    ref: str
    to: str
    dry_run: bool = False
    reason: str | None = Field(None, max_length=NOTE_CHARS)


class AttestIn(Model):
    ref: str
    type: str
    result: Literal["pass", "fail"] | None = None
    junit: str | None = Field(None, description="a JUnit XML report; the server derives the result from it")
    environment: str | None = None
    envelope: str | None = Field(
        None, max_length=1_048_576, description="The attester's own DSSE envelope (JSON), signed with a key under [keys]"
    )


class ApproveIn(Model):
    ref: str
    environment: str
    comment: str | None = Field(None, max_length=NOTE_CHARS)
    envelope: str | None = Field(
        None, max_length=65536, description="The approver's own DSSE envelope (JSON), signed with a key under [keys]"
    )


class DeployIn(Model):
    ref: str
    environment: str
    pending: bool = Field(False, description="the client runs the deployment and reports how it ended")
    reason: str | None = Field(None, max_length=NOTE_CHARS)


class FinishIn(Model):
    succeeded: bool
    exit_code: int | None = None


class RollbackIn(Model):
    package: str
    environment: str
    to: str | None = None
    dry_run: bool = False
    pending: bool = False
    reason: str | None = Field(None, max_length=NOTE_CHARS)


# -- responses --------------------------------------------------------------------------------


class UploadOut(Model):
    upload_id: str
    offset: int
    started_at: datetime | None = None


class BlobOut(Model):
    digest: str
    size: int


class PipelineOut(Model):
    provider: str
    id: str
    url: str | None = None
    project: str | None = None
    commit: str | None = None
    ref: str | None = None
    job: str | None = None


class PlacementOut(Model):
    registry: str
    sealed: bool
    via: str
    placed_by: str
    placed_at: datetime


class ArtifactOut(Model):
    package: str
    version: str
    digest: str
    channel: str
    ceiling: str
    size: int
    media_type: str
    pushed_by: str
    pushed_at: datetime
    pipeline: PipelineOut | None = None


class FileOut(Model):
    name: str
    digest: str
    size: int
    media_type: str


class AttachmentOut(Model):
    id: int
    kind: str
    type: str
    result: str | None
    environment: str | None
    actor: str
    created_at: datetime
    details: dict[str, Any]


class DeploymentOut(Model):
    id: int
    package: str
    version: str
    digest: str
    environment: str
    status: str
    kind: str
    actor: str
    started_at: datetime
    finished_at: datetime | None
    reason: str | None
    exit_code: int | None
    pipeline: PipelineOut | None = None


class HoldOut(Model):
    environment: str
    reason: str
    actor: str
    created_at: datetime


class ArtifactSummaryOut(ArtifactOut):
    placements: list[PlacementOut]
    running_in: list[str]


class ArtifactDetailsOut(ArtifactOut):
    placements: list[PlacementOut]
    files: list[FileOut]
    attachments: list[AttachmentOut]
    deployments: list[DeploymentOut]
    holds: list[HoldOut]
    sbom: Literal["present", "pending", "missing"]  # pending: being generated off the push


class PublishOut(Model):
    outcome: str
    registry: str
    replaced: str | None
    artifact: ArtifactOut


class PromotionOut(Model):
    status: str
    to: str
    sealed: bool
    gates: list[str]
    artifact: ArtifactOut


class ApprovalOut(Model):
    approval: AttachmentOut
    counts: bool
    note: str | None
    released_hold: bool
    created: bool


class RollbackOut(Model):
    environment: str
    package: str
    current: DeploymentOut
    target: ArtifactOut
    deployment: DeploymentOut | None


class EventOut(Model):
    seq: int
    time: str
    actor: str
    action: str
    subject: str
    package: str | None
    digest: str | None
    details: dict[str, Any]
    pipeline: dict[str, str] | None
    prev: str
    hash: str


class VerifyOut(Model):
    ok: bool
    checked: int
    head: str
    broken_at: int | None
    reason: str | None


# -- conversions ------------------------------------------------------------------------------


def pipeline_out(p: m.Pipeline | None) -> PipelineOut | None:
    return PipelineOut(**p.as_dict()) if p else None


def artifact_out(a: m.Artifact) -> ArtifactOut:
    return ArtifactOut(**_artifact_fields(a))


def _artifact_fields(a: m.Artifact) -> dict[str, Any]:
    return {
        "package": a.package,
        "version": str(a.version),
        "digest": str(a.digest),
        "channel": str(a.channel),
        "ceiling": a.ceiling,
        "size": a.size,
        "media_type": a.media_type,
        "pushed_by": a.pushed_by,
        "pushed_at": a.pushed_at,
        "pipeline": pipeline_out(a.pipeline),
    }


def placement_out(p: m.Placement) -> PlacementOut:
    return PlacementOut(registry=p.registry, sealed=p.sealed, via=str(p.via), placed_by=p.placed_by, placed_at=p.placed_at)


def attachment_out(a: m.Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        kind=str(a.kind),
        type=a.type,
        result=str(a.result) if a.result else None,
        environment=a.environment,
        actor=a.actor,
        created_at=a.created_at,
        details=a.details,
    )


def deployment_out(d: m.Deployment) -> DeploymentOut:
    return DeploymentOut(
        id=d.id,
        package=d.package,
        version=str(d.version),
        digest=str(d.digest),
        environment=d.environment,
        status=str(d.status),
        kind=str(d.kind),
        actor=d.actor,
        started_at=d.started_at,
        finished_at=d.finished_at,
        reason=d.reason,
        exit_code=d.exit_code,
        pipeline=pipeline_out(d.pipeline),
    )


def summary_out(s: ArtifactSummary) -> ArtifactSummaryOut:
    return ArtifactSummaryOut(
        **_artifact_fields(s.artifact),
        placements=[placement_out(p) for p in s.placements],
        running_in=list(s.running_in),
    )


def details_out(d: ArtifactDetails) -> ArtifactDetailsOut:
    return ArtifactDetailsOut(
        **_artifact_fields(d.artifact),
        placements=[placement_out(p) for p in d.placements],
        files=[FileOut(name=f.name, digest=str(f.digest), size=f.size, media_type=f.media_type) for f in d.files],
        attachments=[attachment_out(a) for a in d.attachments],
        deployments=[deployment_out(x) for x in d.deployments],
        holds=[HoldOut(environment=h.environment, reason=h.reason, actor=h.actor, created_at=h.created_at) for h in d.holds],
        sbom=d.sbom,
    )


def event_out(e: AuditEvent) -> EventOut:
    return EventOut(**e.as_dict())


# -- principals (plain JSON objects: their shapes predate typed responses here) --------------


def whoami_out(identity: Identity) -> dict[str, Any]:
    actor = identity.actor
    return {
        "name": actor.name,
        "kind": actor.kind,
        "authenticated": actor.authenticated,
        "credential": actor.credential,
        "permissions": identity.permissions,
    }


def user_out(view: UserView) -> dict[str, Any]:
    u = view.user
    return {
        "name": u.name,
        "kind": u.kind.value,
        "disabled": u.disabled,
        "password": u.password_hash is not None,
        "created_at": u.created_at.isoformat(),
        "created_by": u.created_by,
        "teams": list(view.teams),
        "grants": list(view.grants),
        "permissions": view.permissions,
    }


def team_out(view: TeamView, *, permissions: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": view.name, "members": list(view.members), "grants": list(view.grants)}
    return {**out, "permissions": view.permissions} if permissions else out


def token_out(token: Token, now: datetime) -> dict[str, Any]:
    return {
        "id": token.id,
        "owner": token.owner,
        "description": token.description,
        "scope": list(token.scope) if token.scope is not None else None,
        "created_at": token.created_at.isoformat(),
        "created_by": token.created_by,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "state": token.state(now),
    }


def access_out(report: AccessReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "roles": [
            {"name": r.name, "description": r.description, "permissions": [str(p) for p in r.permissions]}
            for r in report.roles
        ],
        "anonymous_read": report.anonymous_read,
        "you": whoami_out(report.you),
    }
    if report.users is not None:
        out["users"] = [user_out(u) for u in report.users]
    if report.teams is not None:
        out["teams"] = [team_out(t, permissions=True) for t in report.teams]
    return out
