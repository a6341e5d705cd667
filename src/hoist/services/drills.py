"""Rollback drills: for each package an environment runs, would every version in its rollback
window still work as a rollback target today? Present (the bytes that ran are still the
artifact's), intact (every blob re-hashed) and through the environment's gates. Changes nothing;
the drill itself is recorded in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hoist.domain.access import Permission, Right
from hoist.domain.digests import Digest
from hoist.domain.errors import Problem
from hoist.domain.events import Action, EventDraft
from hoist.domain.manifests import Manifest
from hoist.domain.models import Actor, Artifact
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.domain.retention import deployed, rollback_window
from hoist.services.base import Clock, utcnow
from hoist.services.blobs import Blobs
from hoist.services.catalog import current_deployments
from hoist.services.evidence import gather_evidence
from hoist.services.guard import Guard
from hoist.services.integrity import manifest_problems


@dataclass(frozen=True, slots=True)
class DrillTarget:
    ref: str
    digest: str
    problems: list[Problem] = field(default_factory=list)
    held: bool = False  # held back after a rollback: rollback skips it

    @property
    def ready(self) -> bool:
        return self.held or not self.problems


@dataclass(frozen=True, slots=True)
class PackageDrill:
    package: str
    current: str
    targets: list[DrillTarget]

    @property
    def ready(self) -> bool:
        return all(t.ready for t in self.targets)


@dataclass(frozen=True, slots=True)
class DrillReport:
    environment: str
    packages: list[PackageDrill]

    @property
    def ready(self) -> bool:
        return all(p.ready for p in self.packages)

    @property
    def integrity_failed(self) -> bool:
        return any(p.gate in {"present", "intact"} for pk in self.packages for t in pk.targets for p in t.problems)


class RollbackDrills:
    def __init__(self, metadata: MetadataStore, blobs: Blobs, policy: Policy, guard: Guard, clock: Clock = utcnow) -> None:
        self._metadata = metadata
        self._blobs = blobs
        self._policy = policy
        self._guard = guard
        self._clock = clock

    def drill(self, actor: Actor, *, environment: str, package: str | None = None) -> DrillReport:
        self._policy.environment(environment)
        needed = [Permission(Right.DEPLOY, environment), Permission(Right.AUDIT)]
        asked = f"run a rollback drill in {environment}"
        self._guard.require_any(actor, needed, asked=asked, subject=f"environment:{environment}")
        with self._metadata.reader() as s:
            history = s.deployments.history(environment=environment, package=package)
            window = rollback_window(deployed(history), self._policy.rollback_window)
            ran = {d.artifact_id: d.digest for d in reversed(history)}  # the newest digest each ran as
            drafts = []
            for (_env, name), current in sorted(current_deployments(history).items()):
                in_window = [
                    s.artifacts.get_by_id(a)
                    for a, environments in sorted(window.items())
                    if environment in environments and a != current.artifact_id
                ]
                targets = [self._checked(s, t, environment, ran) for t in in_window if t.package == name]
                drafts.append((name, s.artifacts.get_by_id(current.artifact_id).ref, targets))
            manifests = {t.digest: s.manifests.get(t.digest) for _, _, ts in drafts for t, _ in ts}
        # Integrity outside the transaction: it reads every byte of every target.
        packages = [
            PackageDrill(name, current, [self._intact(t, d, manifests[t.digest]) for t, d in targets])
            for name, current, targets in drafts
        ]
        report = DrillReport(environment, packages)
        self._record(actor, report)
        return report

    def _checked(
        self, s: MetadataSession, target: Artifact, environment: str, ran: dict[int, Digest]
    ) -> tuple[Artifact, DrillTarget]:
        problems = []
        if ran.get(target.id, target.digest) != target.digest:
            problems.append(Problem("present", f"{target.ref} ran as {ran[target.id]} but now holds {target.digest}"))
        evidence = gather_evidence(s, target)
        gates = self._policy.deployment_problems(target, evidence, environment)
        problems += [p for p in gates if p.gate != "hold"]  # a held version is skipped, not failed
        return target, DrillTarget(target.ref, str(target.digest), problems, environment in evidence.held_in)

    def _intact(self, target: Artifact, draft: DrillTarget, manifest: Manifest | None) -> DrillTarget:
        return replace(draft, problems=draft.problems + manifest_problems(self._blobs, target.digest, manifest))

    def _record(self, actor: Actor, report: DrillReport) -> None:
        details = {
            "ready": report.ready,
            "packages": {
                p.package: {
                    "current": p.current,
                    "ready": p.ready,
                    "targets": {t.ref: [x.message for x in t.problems] for t in p.targets},
                }
                for p in report.packages
            },
        }
        event = EventDraft(Action.DRILL, actor=actor.name, subject=f"environment:{report.environment}", details=details)
        with self._metadata.session() as s:
            s.audit.append(event, now=self._clock())
