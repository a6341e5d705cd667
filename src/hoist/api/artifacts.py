"""Publishing and reading artifacts."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import (
    ArtifactDetailsOut,
    ArtifactSummaryOut,
    ErrorBody,
    PublishIn,
    PublishOut,
    artifact_out,
    details_out,
    summary_out,
)
from hoist.domain.digests import Digest
from hoist.domain.models import ArtifactRef, FileEntry
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.catalog import CatalogService
from hoist.services.publishing import Outcome, PublishService

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 403, 404, 409)}


def router(publisher: PublishService, catalog: CatalogService) -> APIRouter:
    api = APIRouter(tags=["artifacts"], responses=ERRORS, route_class=BoundedRoute)

    @api.post("/artifacts", status_code=201, response_model=PublishOut)
    def publish(body: PublishIn, request: Request, response: Response) -> PublishOut:
        """Make uploaded blobs an artifact version. 201 when something changed, 200 when the same
        bytes were already there; 409 VERSION_EXISTS names the digest the version already holds."""
        result = publisher.publish(
            registry=body.registry,
            package=body.package,
            version=body.version,
            build=body.build,
            max_env=body.max_env,
            files=[FileEntry(f.name, Digest.parse(f.digest), f.size, f.media_type) for f in body.files],
            actor=actor_of(request),
            pipeline=pipeline_of(request),
        )
        if result.outcome is Outcome.UNCHANGED:
            response.status_code = 200
        return PublishOut(
            outcome=str(result.outcome),
            registry=result.registry,
            replaced=result.replaced,
            artifact=artifact_out(result.artifact),
        )

    @api.get("/artifacts", response_model=list[ArtifactSummaryOut])
    def list_artifacts(
        request: Request, package: str | None = Query(None), registry: str | None = Query(None)
    ) -> list[ArtifactSummaryOut]:
        """Versions with their digests, the registries that hold them and where they run (those in a
        registry you may read)."""
        return [summary_out(s) for s in catalog.summaries(actor=actor_of(request), package=package, registry=registry)]

    @api.get(
        "/artifacts/{ref:path}/manifest",
        response_class=Response,
        responses={200: {"content": {"application/vnd.oci.image.manifest.v1+json": {}}}},
    )
    def get_manifest(ref: str, request: Request, registry: str | None = Query(None)) -> Response:
        """The artifact's OCI manifest, byte for byte."""
        details = catalog.describe(ArtifactRef.parse(ref), actor=actor_of(request), registry=registry)
        return Response(
            details.manifest.raw,
            media_type=details.manifest.media_type,
            headers={"Docker-Content-Digest": str(details.manifest.digest)},
        )

    @api.get("/artifacts/{ref:path}", response_model=ArtifactDetailsOut)
    def get_artifact(ref: str, request: Request, registry: str | None = Query(None)) -> ArtifactDetailsOut:
        """One artifact (``NAME@VERSION`` or ``NAME@sha256:…``): files, placements, evidence, deployments."""
        return details_out(catalog.describe(ArtifactRef.parse(ref), actor=actor_of(request), registry=registry))

    return api
