"""Retention: plan (a dry run naming the rule or guarantee behind every verdict), apply (a soft
delete into the trash, audited with its reason), restore, and purge what has been in the trash long
enough. A version leaves a registry only; its bytes go when garbage collection finds nothing left
that needs them.

``apply`` decides inside the unit of work that deletes, on what is committed then: a deployment
that lands between a plan and an apply protects its artifact, because the apply plans again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from hoist.domain.access import Right
from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidState, NotFound
from hoist.domain.events import Action
from hoist.domain.models import Actor, Artifact, PlacementVia
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.domain.retention import Candidate, Plan, TrashItem, deployed, plan, rollback_window
from hoist.services.base import Clock, artifact_event, retrying, utcnow
from hoist.services.catalog import current_deployments
from hoist.services.guard import Guard


@dataclass(frozen=True, slots=True)
class Applied:
    plan: Plan
    trashed: list[TrashItem]


class RetentionService:
    def __init__(self, metadata: MetadataStore, policy: Policy, guard: Guard, clock: Clock = utcnow) -> None:
        self._metadata = metadata
        self._policy = policy
        self._guard = guard
        self._clock = clock

    def _registries(self, actor: Actor, registry: str | None, right: Right, verb: str) -> list[str]:
        names = [self._policy.registry(registry).name] if registry else sorted(self._policy.registries)
        for name in names:
            self._guard.require(actor, right, name, asked=f"{verb} retention in {name}", subject=f"registry:{name}")
        return names

    def plan(self, actor: Actor, registry: str | None = None) -> list[Plan]:
        names = self._registries(actor, registry, Right.READ, "plan")
        with self._metadata.reader() as s:
            return [self._plan(s, name) for name in names]

    def apply(self, actor: Actor, registry: str | None = None) -> list[Applied]:
        """Move every version the plan deletes into the trash (needs admin on the registry)."""
        names = self._registries(actor, registry, Right.ADMIN, "apply")
        return [retrying(lambda name=name: self._apply(actor, name)) for name in names]  # type: ignore[misc]

    def _apply(self, actor: Actor, registry: str) -> Applied:
        with self._metadata.session() as s:
            decided = self._plan(s, registry)
            trashed = [
                self.take(s, registry, v.candidate.artifact_id, reason=v.reason, actor=actor, action=Action.RETENTION_DELETE)
                for v in decided.deletions
            ]
            return Applied(decided, trashed)

    def _plan(self, s: MetadataSession, registry: str) -> Plan:
        return plan(registry, self._policy.registry(registry).retention, self._candidates(s, registry), now=self._clock())

    def _candidates(self, s: MetadataSession, registry: str) -> list[Candidate]:
        history = s.deployments.history()
        running: dict[int, set[str]] = {}
        for (environment, _package), d in current_deployments(history).items():
            running.setdefault(d.artifact_id, set()).add(environment)
        window = rollback_window(deployed(history), self._policy.rollback_window)
        out = []
        for artifact in s.artifacts.find(registry=registry):
            placement = next(p for p in s.placements.of(artifact.id) if p.registry == registry)
            manifest = s.manifests.get(artifact.digest)
            out.append(
                Candidate(
                    artifact_id=artifact.id,
                    package=artifact.package,
                    version=artifact.version,
                    digest=artifact.digest,
                    placed_at=placement.placed_at,
                    sealed=placement.sealed,
                    running_in=frozenset(running.get(artifact.id, ())),
                    rollback_in=window.get(artifact.id, frozenset()),
                    children=frozenset(c.digest for c in manifest.manifests) if manifest else frozenset(),
                )
            )
        return out

    def take(
        self,
        s: MetadataSession,
        registry: str,
        artifact_id: int,
        *,
        reason: str,
        actor: Actor,
        action: Action,
        **details: str,
    ) -> TrashItem:
        """Take the version out of the registry, inside the caller's unit of work: its placement, its
        manifest and referrers in the repository, and the movable tags pointing at them; all kept in
        the trash item, restorable until purged. Retention and ``hoist delete`` both go this way."""
        artifact = s.artifacts.get_by_id(artifact_id)
        placement = next(p for p in s.placements.of(artifact.id) if p.registry == registry)
        members = _members(s, registry, artifact)
        tags = [(name, d) for name, d in s.repositories.tags(registry, artifact.package) if d in members]
        for name, _ in tags:
            s.repositories.delete_tag(registry, artifact.package, name)
        for digest in members:
            s.repositories.remove_manifest(registry, artifact.package, digest)
            manifest = s.manifests.get(digest)
            for blob in manifest.blob_digests() if manifest else ():  # upload links; still needed ones stay reachable
                s.repositories.unlink_blob(registry, artifact.package, blob)
        s.placements.remove(artifact.id, registry)
        now = self._clock()
        days = self._policy.registry(registry).retention.trash_days
        item = s.trash.add(
            TrashItem(
                id=0,
                artifact_id=artifact.id,
                registry=registry,
                sealed=placement.sealed,
                via=str(placement.via),
                placed_by=placement.placed_by,
                placed_at=placement.placed_at,
                members=tuple(sorted(members, key=str)),
                tags=tuple(tags),
                reason=reason,
                deleted_by=actor.name,
                deleted_at=now,
                purge_after=now + timedelta(days=days),
            )
        )
        event = artifact_event(action, artifact, actor, None, registry=registry, reason=reason, **details)
        s.audit.append(
            replace(event, details={**event.details, "trash": item.id, "purge_after": item.purge_after.isoformat()}), now=now
        )
        return item

    def trash(self, actor: Actor, *, registry: str | None = None, state: str | None = None) -> list[TrashItem]:
        names = self._registries(actor, registry, Right.READ, "read the trash of")
        with self._metadata.reader() as s:
            return [i for i in s.trash.items(registry=registry, state=state) if i.registry in names]

    def restore(self, actor: Actor, item_id: int) -> TrashItem:
        """Put a trashed version back where it was, as it was (placement, repository, tags)."""
        with self._metadata.reader() as s:
            found = s.trash.get(item_id)
        if found is None:
            raise NotFound(f"nothing in the trash has id {item_id}", item=item_id)
        self._guard.require(
            actor, Right.ADMIN, found.registry, asked=f"restore trash item {item_id}", subject=f"trash:{item_id}"
        )

        def unit_of_work() -> TrashItem:
            with self._metadata.session() as s:
                item = s.trash.get(item_id)
                assert item is not None
                if item.state != "trashed":
                    raise InvalidState(f"trash item {item_id} is already {item.state}", item=item_id)
                artifact = s.artifacts.get_by_id(item.artifact_id)
                now = self._clock()
                if item.registry not in {p.registry for p in s.placements.of(artifact.id)}:
                    s.placements.add(
                        artifact.id,
                        item.registry,
                        sealed=item.sealed,
                        via=PlacementVia(item.via),
                        actor=item.placed_by,
                        now=item.placed_at,
                    )
                for digest in item.members:
                    s.repositories.add_manifest(item.registry, artifact.package, digest, now=now)
                for name, digest in item.tags:
                    if s.repositories.tag(item.registry, artifact.package, name) is None:  # not re-pointed since
                        s.repositories.set_tag(item.registry, artifact.package, name, digest, actor=actor.name, now=now)
                s.trash.restored(item_id, actor=actor.name, now=now)
                s.audit.append(
                    artifact_event(Action.RESTORE, artifact, actor, None, registry=item.registry, trash=item_id), now=now
                )
                restored = s.trash.get(item_id)
                assert restored is not None
                return restored

        return retrying(unit_of_work)

    def find(self, actor: Actor, artifact: Artifact, registry: str) -> TrashItem:
        """The version's newest restorable trash item in ``registry``."""
        for item in self.trash(actor, registry=registry, state="trashed"):
            if item.artifact_id == artifact.id:
                return item
        raise NotFound(f"{artifact.ref} is not in the trash of {registry}", ref=artifact.ref, registry=registry)

    def purge(self, actor: Actor) -> list[TrashItem]:
        """Purge what has been in the trash longer than its registry keeps it: it can no longer be
        restored, and garbage collection may take its bytes."""
        self._guard.require(actor, Right.ADMIN, asked="purge the trash", subject="trash")

        def unit_of_work() -> list[TrashItem]:
            with self._metadata.session() as s:
                now = self._clock()
                purged = []
                for item in s.trash.due(now):
                    if s.trash.purged(item.id, now=now):
                        artifact = s.artifacts.get_by_id(item.artifact_id)
                        s.audit.append(
                            artifact_event(Action.PURGE, artifact, actor, None, registry=item.registry, trash=item.id),
                            now=now,
                        )
                        purged.append(replace(item, purged_at=now))
                return purged

        return retrying(unit_of_work)


def _members(s: MetadataSession, registry: str, artifact: Artifact) -> set[Digest]:
    """The artifact's manifest and, recursively, its index children and referrers in the repository
    (signatures, SBOMs, attestations): what leaves the repository with it. Manifests that are other
    versions placed in the registry stay."""
    placed_elsewhere = {
        a.digest for a in s.artifacts.find(package=artifact.package, registry=registry) if a.id != artifact.id
    }
    members: set[Digest] = set()
    pending = [artifact.digest]
    while pending:
        digest = pending.pop()
        if digest in members or digest in placed_elsewhere:
            continue
        members.add(digest)
        manifest = s.manifests.get(digest)
        if manifest is not None:
            pending += [child.digest for child in manifest.manifests]
        pending += [m.digest for m in s.repositories.referrers(registry, artifact.package, digest)]
    return members
