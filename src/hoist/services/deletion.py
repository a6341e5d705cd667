"""``hoist delete``: one version out of one registry, under the rule OCI DELETE follows
(``RepositoryService.check_deletable``), into the trash the way retention takes versions
(``RetentionService.take``): restorable with ``hoist restore`` until purged after the registry's
``trash_days``; its bytes go only when garbage collection finds nothing else needs them."""

from __future__ import annotations

from dataclasses import dataclass

from hoist.domain.access import Right
from hoist.domain.errors import Denied, InvalidInput
from hoist.domain.events import Action, EventDraft
from hoist.domain.models import Actor, ArtifactRef, Pipeline
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataStore
from hoist.domain.retention import TrashItem
from hoist.services.base import Clock, record_refusal, retrying, utcnow
from hoist.services.catalog import resolve
from hoist.services.guard import Guard
from hoist.services.repositories import RepositoryService
from hoist.services.retention import RetentionService


@dataclass(frozen=True, slots=True)
class Deleted:
    ref: str
    item: TrashItem


class DeletionService:
    def __init__(
        self,
        metadata: MetadataStore,
        policy: Policy,
        guard: Guard,
        repositories: RepositoryService,
        retention: RetentionService,
        clock: Clock = utcnow,
    ) -> None:
        self._metadata = metadata
        self._policy = policy
        self._guard = guard
        self._repositories = repositories
        self._retention = retention
        self._clock = clock

    def delete(
        self,
        ref: ArtifactRef,
        *,
        actor: Actor,
        registry: str | None = None,
        reason: str | None = None,
        pipeline: Pipeline | None = None,
    ) -> Deleted:
        """Needs ``delete`` on the registry (which must ``allow_delete``); without ``registry``, the
        one registry holding the version."""
        name = self._policy.registry(registry).name if registry else self._only_registry(ref, actor)
        self._guard.require(actor, Right.DELETE, name, asked=f"delete {ref} from {name}", subject=str(ref))
        try:
            if not self._policy.registry(name).allow_delete:
                raise Denied(f"registry {name} does not allow deletes", registry=name)
            return retrying(lambda: self._delete(ref, name, actor, reason))
        except Denied as refusal:
            record_refusal(
                self._metadata,
                EventDraft(
                    action=Action.DELETE_REFUSED,
                    actor=actor.name,
                    subject=str(ref),
                    package=ref.package,
                    details={"registry": name, "problem": refusal.message, **({"reason": reason} if reason else {})},
                    pipeline=pipeline.as_dict() if pipeline else None,
                ),
                self._clock,
            )
            raise

    def _delete(self, ref: ArtifactRef, registry: str, actor: Actor, reason: str | None) -> Deleted:
        with self._metadata.session() as s:
            artifact = resolve(s, ref, registry)
            self._repositories.check_deletable(s, registry, artifact.package, artifact.digest)
            item = self._retention.take(
                s, registry, artifact.id, reason=reason or "hoist delete", actor=actor, action=Action.DELETE
            )
            return Deleted(artifact.ref, item)

    def _only_registry(self, ref: ArtifactRef, actor: Actor) -> str:
        with self._metadata.reader() as s:
            artifact = resolve(s, ref)
            held = sorted(p.registry for p in s.placements.of(artifact.id))
        self._guard.require_read(actor, held, asked=f"read {ref}", subject=str(ref))
        if len(held) != 1:
            where = f"it is in {', '.join(held)}" if held else "it is in no registry"
            raise InvalidInput(f"which registry should {ref} leave? {where}: name one with --registry", ref=str(ref))
        return held[0]
