"""Retention (plan, apply, the trash, restore, purge), deletes into the trash, and garbage collection."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Protocol

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import ErrorBody
from hoist.domain.models import ArtifactRef
from hoist.domain.retention import Plan, TrashItem
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.catalog import CatalogService
from hoist.services.collection import GarbageCollector
from hoist.services.deletion import DeletionService
from hoist.services.drills import DrillReport, RollbackDrills
from hoist.services.fsck import Fsck
from hoist.services.maintenance import Maintenance
from hoist.services.retention import RetentionService


class MaintenanceServices(Protocol):
    @property
    def retention(self) -> RetentionService: ...
    @property
    def deletion(self) -> DeletionService: ...
    @property
    def catalog(self) -> CatalogService: ...
    @property
    def gc(self) -> GarbageCollector: ...
    @property
    def drills(self) -> RollbackDrills: ...
    @property
    def fsck(self) -> Fsck: ...
    @property
    def maintenance(self) -> Maintenance: ...


STATES = "^(trashed|restored|purged)$"
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409)}


class ApplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registry: str | None = None


class RestoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str
    registry: str


class DeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str
    registry: str | None = None
    reason: str | None = None


def plan_out(p: Plan) -> dict[str, Any]:
    return {
        "registry": p.registry,
        "verdicts": [
            {
                "ref": v.candidate.ref,
                "digest": str(v.candidate.digest),
                "placed_at": v.candidate.placed_at.isoformat(),
                "sealed": v.candidate.sealed,
                "verdict": "delete" if v.delete else "keep",
                "reason": v.reason,
                "guarantee": v.guarantee,
            }
            for v in p.verdicts
        ],
    }


def item_out(i: TrashItem, refs: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "id": i.id,
        "ref": (refs or {}).get(i.artifact_id),
        "artifact_id": i.artifact_id,
        "registry": i.registry,
        "state": i.state,
        "reason": i.reason,
        "deleted_by": i.deleted_by,
        "deleted_at": i.deleted_at.isoformat(),
        "purge_after": i.purge_after.isoformat(),
        "restored_at": i.restored_at.isoformat() if i.restored_at else None,
        "restored_by": i.restored_by,
        "purged_at": i.purged_at.isoformat() if i.purged_at else None,
        "members": [str(d) for d in i.members],
        "tags": [name for name, _ in i.tags],
    }


class DrillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    environment: str
    package: str | None = None


def drill_out(r: DrillReport) -> dict[str, Any]:
    return {
        "environment": r.environment,
        "ready": r.ready,
        "integrity_failed": r.integrity_failed,
        "packages": [
            {
                "package": p.package,
                "current": p.current,
                "ready": p.ready,
                "targets": [
                    {
                        "ref": t.ref,
                        "digest": t.digest,
                        "ready": t.ready,
                        "held": t.held,
                        "problems": [x.as_dict() for x in t.problems],
                    }
                    for t in p.targets
                ],
            }
            for p in r.packages
        ],
    }


class CollectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = False


class MaintenanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    drill: bool = True


class FsckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quarantine: bool = False


def router(services: MaintenanceServices) -> APIRouter:
    """Retention, trash, drills, garbage collection and fsck (``services`` holds each service)."""
    api = APIRouter(tags=["maintenance"], responses=ERRORS, route_class=BoundedRoute)
    retention, catalog, gc, drills, fsck = services.retention, services.catalog, services.gc, services.drills, services.fsck

    def refs(items: list[TrashItem]) -> dict[int, str]:
        return catalog.refs({i.artifact_id for i in items})

    @api.get("/retention/plan")
    def retention_plan(request: Request, registry: str | None = Query(None)) -> list[dict[str, Any]]:
        """A dry run: every version of each registry (or of ``registry``) with its verdict and the
        rule or guarantee that decided it."""
        return [plan_out(p) for p in retention.plan(actor_of(request), registry)]

    @api.post("/retention/apply")
    def retention_apply(body: ApplyIn, request: Request) -> list[dict[str, Any]]:
        """Move what the plan deletes into the trash (admin on the registry); audited with the reason."""
        applied = retention.apply(actor_of(request), body.registry)
        return [{**plan_out(a.plan), "trashed": [item_out(i, refs(a.trashed)) for i in a.trashed]} for a in applied]

    @api.get("/trash")
    def trash(
        request: Request,
        registry: str | None = Query(None),
        state: str | None = Query(None, pattern="^(trashed|restored|purged)$"),
    ) -> list[dict[str, Any]]:
        items = retention.trash(actor_of(request), registry=registry, state=state)
        names = refs(items)
        return [item_out(i, names) for i in items]

    @api.post("/trash/{item_id}/restore")
    def restore(item_id: int, request: Request) -> dict[str, Any]:
        item = retention.restore(actor_of(request), item_id)
        return item_out(item, refs([item]))

    @api.post("/restores")
    def restore_ref(body: RestoreIn, request: Request) -> dict[str, Any]:
        """Restore ``ref`` into ``registry`` from its newest trash item there."""
        actor = actor_of(request)
        artifact = catalog.artifact(ArtifactRef.parse(body.ref))
        item = retention.restore(actor, retention.find(actor, artifact, body.registry).id)
        return item_out(item, {artifact.id: artifact.ref})

    @api.post("/deletions")
    def delete(body: DeleteIn, request: Request) -> dict[str, Any]:
        """Take ``ref`` out of ``registry`` (default: the one registry holding it) into the trash,
        restorable until purged; refused (403 DENIED, saying why) while it is sealed there, runs in
        an environment reading it, or is in such an environment's rollback window."""
        deleted = services.deletion.delete(
            ArtifactRef.parse(body.ref),
            actor=actor_of(request),
            registry=body.registry,
            reason=body.reason,
            pipeline=pipeline_of(request),
        )
        return item_out(deleted.item, {deleted.item.artifact_id: deleted.ref})

    @api.post("/trash/purge")
    def purge(request: Request) -> list[dict[str, Any]]:
        """Purge what has been in the trash longer than its registry keeps it."""
        items = retention.purge(actor_of(request))
        return [item_out(i, refs(items)) for i in items]

    @api.post("/drills")
    def drill(body: DrillIn, request: Request) -> dict[str, Any]:
        """A rollback drill: is every version in each package's rollback window present, intact and
        through the environment's gates today? Changes nothing; recorded in the audit trail."""
        report = drills.drill(actor_of(request), environment=body.environment, package=body.package)
        return drill_out(report)

    @api.post("/gc")
    def collect(body: CollectIn, request: Request) -> dict[str, Any]:
        """Mark and sweep unreferenced blobs (admin); safe while uploads and pushes run. Reports the
        bytes reclaimed (or, with ``dry_run``, what would be)."""
        return asdict(gc.collect(actor_of(request), dry_run=body.dry_run))

    @api.post("/maintenance")
    def maintain(body: MaintenanceIn, request: Request) -> dict[str, Any]:
        """Retention in every registry, trash purge, garbage collection and (``drill``) a rollback
        drill per environment: what ``hoist maintenance run`` and the schedule do."""
        report = services.maintenance.run(actor_of(request), drill=body.drill)
        return {
            "retention": [
                {**plan_out(a.plan), "trashed": [item_out(i, refs(a.trashed)) for i in a.trashed]} for a in report.retention
            ],
            "purged": [item_out(i, refs(report.purged)) for i in report.purged],
            "gc": asdict(report.collected),
            "drills": [drill_out(d) for d in report.drills],
            "ready": report.ready,
        }

    @api.post("/fsck")
    def run_fsck(body: FsckIn, request: Request) -> dict[str, Any]:
        """Re-hash every blob (a corrupt one is never served again; with ``quarantine`` it is moved
        aside), check every live manifest's references and the audit chain."""
        report = fsck.run(actor_of(request), quarantine=body.quarantine)
        return {**asdict(report), "ok": report.ok}

    return api
