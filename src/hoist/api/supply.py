"""SBOMs, "am I affected?", vulnerability advisories and reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import ErrorBody
from hoist.domain.models import ArtifactRef
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.inventory import InventoryService
from hoist.services.vulnerabilities import VulnerabilityService, severity_counts

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 403, 404, 409, 413)}


def _json(content: dict[str, Any]) -> JSONResponse:
    """Plain JSON without FastAPI's per-value encoder walk: these answers can list thousands of artifacts."""
    return JSONResponse(content)


def router(inventory: InventoryService, vulnerabilities: VulnerabilityService) -> APIRouter:
    api = APIRouter(tags=["supply chain"], responses=ERRORS, route_class=BoundedRoute)

    @api.put("/artifacts/{ref:path}/sbom", status_code=201)
    async def attach_sbom(ref: str, request: Request, response: Response) -> dict[str, Any]:
        """Attach a CycloneDX (1.4-1.6) or SPDX 2.3 JSON SBOM, validated and indexed; 200 when already attached."""
        data = await request.body()  # capped by BoundedRoute (BODY_LIMITS)
        result = await run_in_threadpool(
            inventory.attach, ArtifactRef.parse(ref), data, actor=actor_of(request), pipeline=pipeline_of(request)
        )
        if not result["created"]:
            response.status_code = 200
        return result

    @api.get("/artifacts/{ref:path}/sbom", response_class=Response)
    def get_sbom(request: Request, ref: str, format: str = Query("cyclonedx", pattern="^(cyclonedx|spdx)$")) -> Response:
        """The artifact's SBOM: the supplied one if any, else the one generated at push; ``format=spdx`` exports SPDX 2.3."""
        data, media_type = inventory.document(ArtifactRef.parse(ref), actor=actor_of(request), spdx=format == "spdx")
        return Response(data, media_type=media_type)

    @api.get("/affected", response_class=JSONResponse)
    def affected(request: Request, q: str, range: str | None = None) -> JSONResponse:
        """Every artifact containing a component matching ``q`` (a purl or a name) and ``range``, and every
        environment running one now: answered from the component index (artifacts in registries you may read)."""
        report = inventory.affected(q, range, actor=actor_of(request))
        return _json(
            {
                "query": report.query,
                "range": report.range,
                "artifacts": [
                    {
                        "package": a.package,
                        "version": a.version,
                        "digest": a.digest,
                        "registries": list(a.registries),
                        "components": [
                            {"type": c.type, "name": c.key, "version": c.version, "purl": c.purl} for c in a.components
                        ],
                    }
                    for a in report.artifacts
                ],
                "running": [
                    {"environment": r.environment, "package": r.package, "version": r.version, "digest": str(r.digest)}
                    for r in report.running
                ],
                "pending": report.pending,
            }
        )

    @api.post("/advisories", status_code=201)
    async def import_advisories(request: Request, filename: str = "advisories.json") -> dict[str, Any]:
        """Import OSV records: the body is one .json file (a record or a list) or a .zip of records."""
        data = await request.body()  # capped by BoundedRoute (BODY_LIMITS)
        return vulnerabilities.import_document(
            data, filename=filename, actor=actor_of(request), pipeline=pipeline_of(request)
        )

    @api.get("/artifacts/{ref:path}/vulnerabilities")
    def vulnerability_report(request: Request, ref: str) -> dict[str, Any]:
        """Known vulnerabilities of the artifact's components (from its SBOMs and the imported advisories)."""
        report = vulnerabilities.report(ArtifactRef.parse(ref), actor=actor_of(request))
        return {
            "artifact": report.ref,
            "digest": report.digest,
            "sboms": report.sboms,
            "sbom": report.sbom,
            "components": report.components,
            "highest": report.highest.name.lower(),
            "counts": severity_counts(report.findings),
            "findings": [f.as_dict() for f in report.findings],
        }

    return api
