"""Routine upkeep as one unit: retention in every registry, purge of the trash, garbage collection,
and a rollback drill in every environment. ``hoist maintenance run`` asks the server for it (cron,
systemd timers); ``[maintenance] every_hours`` makes it a periodic job of the queue (``services/jobs.py``),
run by one worker at a time."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hoist.domain.access import Permission, Permissions, Right
from hoist.domain.jobs import JobArgs
from hoist.domain.models import Actor
from hoist.domain.policy import Policy
from hoist.domain.retention import TrashItem
from hoist.services.collection import CollectionReport, GarbageCollector
from hoist.services.drills import DrillReport, RollbackDrills
from hoist.services.retention import Applied, RetentionService

log = logging.getLogger("hoist.maintenance")
SCHEDULER = Actor("hoist-maintenance", "robot", True, None, Permissions(frozenset({Permission(Right.ADMIN)})), "schedule")


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    retention: list[Applied]
    purged: list[TrashItem]
    collected: CollectionReport
    drills: list[DrillReport]

    @property
    def ready(self) -> bool:
        return all(d.ready for d in self.drills)


class Maintenance:
    def __init__(self, policy: Policy, retention: RetentionService, gc: GarbageCollector, drills: RollbackDrills) -> None:
        self._policy = policy
        self._retention = retention
        self._gc = gc
        self._drills = drills

    def run(self, actor: Actor, *, drill: bool = True) -> MaintenanceReport:
        applied = self._retention.apply(actor)  # needs admin on every registry; the rest checks its own right
        purged = self._retention.purge(actor)
        collected = self._gc.collect(actor)
        drills = [self._drills.drill(actor, environment=e.name) for e in self._policy.environments] if drill else []
        return MaintenanceReport(applied, purged, collected, drills)

    def scheduled(self, _args: JobArgs) -> None:
        """The ``maintenance`` job (``[maintenance] every_hours``), as the ``hoist-maintenance`` robot.
        A failure raises: the queue retries it, then shows it failed."""
        report = self.run(SCHEDULER)
        trashed = sum(len(a.trashed) for a in report.retention)
        log.info(
            "maintenance: %d version(s) trashed, %d purged, %d bytes reclaimed, "
            "%d expired upload(s) (%d bytes) reclaimed, rollback drills %s",
            trashed,
            len(report.purged),
            report.collected.bytes_freed,
            report.collected.uploads_expired,
            report.collected.upload_bytes_reclaimed,
            "ready" if report.ready else "NOT READY",
        )
