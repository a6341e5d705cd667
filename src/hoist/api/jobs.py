"""The job queue's state: counts by status and the jobs that failed for good (admin or audit)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import ErrorBody
from hoist.domain.jobs import JobStatus
from hoist.http.identity import actor_of
from hoist.services.jobs import JobService

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (401, 403)}


def router(jobs: JobService) -> APIRouter:
    api = APIRouter(tags=["jobs"], responses=ERRORS, route_class=BoundedRoute)

    @api.get("/jobs")
    def job_status(request: Request, limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        """Jobs waiting, running, done and failed (SBOM generation, scheduled maintenance), and the failed ones."""
        status = jobs.status(actor_of(request), limit=limit)
        return {
            "counts": {s.value: status.counts.get(s, 0) for s in JobStatus},
            "pending": status.pending,
            "failed": [
                {
                    "id": j.id,
                    "name": j.name,
                    "key": j.key,
                    "args": dict(j.args),
                    "attempts": j.attempts,
                    "error": j.error,
                    "updated_at": j.updated_at.isoformat() if j.updated_at else None,
                }
                for j in status.failed
            ],
        }

    return api
