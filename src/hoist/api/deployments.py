"""Deployments, rollbacks and status."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import (
    DeployIn,
    DeploymentOut,
    ErrorBody,
    FinishIn,
    RollbackIn,
    RollbackOut,
    artifact_out,
    deployment_out,
)
from hoist.domain.models import ArtifactRef
from hoist.domain.names import validate_package_name
from hoist.domain.packages import version_of
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.deployments import DeploymentService

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409)}


def router(deployments: DeploymentService) -> APIRouter:
    api = APIRouter(tags=["deployments"], responses=ERRORS, route_class=BoundedRoute)

    @api.post("/deployments", status_code=201, response_model=DeploymentOut)
    def deploy(body: DeployIn, request: Request) -> DeploymentOut:
        """Check the environment's gates and record a deployment: succeeded at once, or ``started``
        with ``pending`` (finish it with ``POST /deployments/{id}/finish``).
        409 DEPLOYMENT_REFUSED lists every unmet gate."""
        return deployment_out(
            deployments.deploy(
                ArtifactRef.parse(body.ref),
                environment=body.environment,
                actor=actor_of(request),
                pending=body.pending,
                reason=body.reason,
                pipeline=pipeline_of(request),
            )
        )

    @api.post("/deployments/{deployment_id}/finish", response_model=DeploymentOut)
    def finish(deployment_id: int, body: FinishIn, request: Request) -> DeploymentOut:
        return deployment_out(
            deployments.finish(
                deployment_id,
                succeeded=body.succeeded,
                exit_code=body.exit_code,
                actor=actor_of(request),
                pipeline=pipeline_of(request),
            )
        )

    @api.get("/deployments", response_model=list[DeploymentOut])
    def deployment_history(
        request: Request, environment: str | None = Query(None), package: str | None = Query(None)
    ) -> list[DeploymentOut]:
        """Deployments, newest first, in the environments whose registry you may read."""
        found = deployments.history(actor=actor_of(request), environment=environment, package=package)
        return [deployment_out(d) for d in found]

    @api.post("/rollbacks", status_code=201, response_model=RollbackOut)
    def rollback(body: RollbackIn, request: Request, response: Response) -> RollbackOut:
        """Return to the previous good version (or ``to``): checked present, intact and through the
        gates, recorded with its reason; the rejected version is held back until approved again."""
        package = validate_package_name(body.package)
        plan = deployments.rollback(
            package,
            environment=body.environment,
            actor=actor_of(request),
            to=version_of(package, body.to) if body.to else None,
            dry_run=body.dry_run,
            pending=body.pending,
            reason=body.reason,
            pipeline=pipeline_of(request),
        )
        if plan.deployment is None:
            response.status_code = 200
        return RollbackOut(
            environment=plan.environment,
            package=plan.package,
            current=deployment_out(plan.current),
            target=artifact_out(plan.target),
            deployment=deployment_out(plan.deployment) if plan.deployment else None,
        )

    @api.get("/status", response_model=list[DeploymentOut])
    def status(request: Request, environment: str | None = Query(None)) -> list[DeploymentOut]:
        """What runs now: per environment and package, the newest successful deployment (in the
        environments whose registry you may read)."""
        return [deployment_out(d) for d in deployments.status(environment, actor=actor_of(request))]

    return api
