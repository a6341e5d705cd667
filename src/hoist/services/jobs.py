"""The jobs Hoist runs off the request path, and who may look at the queue. The queue itself is a
port: the unit of work queues (``MetadataSession.jobs``), a ``JobWorker`` runs (``hoist worker``, or
the one ``hoist serve`` starts)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import timedelta

from hoist.domain.access import Permission, Right
from hoist.domain.jobs import MAINTENANCE, SBOM, Handler, JobStatus, JobWorker, QueueStatus, WorkReport
from hoist.domain.models import Actor
from hoist.services.guard import Guard
from hoist.services.inventory import InventoryService
from hoist.services.maintenance import Maintenance


class JobService:
    def __init__(
        self,
        worker: JobWorker,
        inventory: InventoryService,
        maintenance: Maintenance,
        guard: Guard,
        *,
        maintenance_every: timedelta | None = None,
    ) -> None:
        self._worker = worker
        self._guard = guard
        self.handlers: Mapping[str, Handler] = {SBOM: inventory.generate, MAINTENANCE: maintenance.scheduled}
        self._every = {MAINTENANCE: maintenance_every} if maintenance_every else {}

    def work(self, *, once: bool, stop: threading.Event | None = None) -> WorkReport:
        """Run jobs: what is due now (``once``), or until ``stop`` is set, queuing the periodic ones."""
        return self._worker.work(self.handlers, once=once, every=None if once else self._every, stop=stop)

    def counts(self) -> Mapping[JobStatus, int]:
        """Jobs by status, nothing more (what /metrics shows as the queue's depth)."""
        return self._worker.status(limit=1).counts

    def status(self, actor: Actor, *, limit: int = 50) -> QueueStatus:
        """How many jobs wait, run, succeeded and failed, and the failed ones (admin or audit)."""
        needed = [Permission(Right.ADMIN), Permission(Right.AUDIT)]
        self._guard.require_any(actor, needed, asked="read the job queue", subject="jobs")
        return self._worker.status(limit=limit)
