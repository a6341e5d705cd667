"""Promotion: admit an artifact into another registry by adding a sealed reference to the same
digest. No byte moves, so the cost does not depend on the artifact's size; the placement, the
seal and the audit event commit together or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from hoist.domain.access import Right
from hoist.domain.errors import Problem, PromotionRefused, describe_problems
from hoist.domain.events import Action
from hoist.domain.jobs import SBOM
from hoist.domain.models import Actor, Artifact, ArtifactRef, Pipeline, PlacementVia
from hoist.domain.policy import Policy, RegistryPolicy
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.services.base import Clock, artifact_event, record_refusal, retrying, utcnow
from hoist.services.catalog import resolve
from hoist.services.evidence import gather_evidence
from hoist.services.guard import Guard
from hoist.services.summaries import PromotionSummaries
from hoist.services.vulnerabilities import VulnerabilityService


@dataclass(frozen=True, slots=True)
class PromotionResult:
    artifact: Artifact
    to: str
    sealed: bool
    status: str  # promoted | already-promoted | planned
    gates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GateCheck:
    """One gate of a promotion and, when it is unmet, why."""

    gate: str
    problems: tuple[str, ...] = ()

    @property
    def met(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class PromotionCheck:
    """``promote --dry-run`` gate by gate (a confirmation page shows it before the click)."""

    ref: str
    to: str
    status: str  # planned | already-promoted | refused
    sealed: bool
    gates: tuple[GateCheck, ...]
    message: str | None = None  # the refusal, word for word as the CLI and the API say it

    @property
    def ready(self) -> bool:
        return self.status == "planned"


def gate_checks(gates: Sequence[str], problems: Sequence[Problem]) -> tuple[GateCheck, ...]:
    """Each gate with the problems named by it (``vulnerabilities<=high`` is the gate
    ``vulnerabilities``), then any problem whose gate is not listed (the approvals a registry asks)."""
    named = {g: g.split("<", 1)[0] for g in gates}
    checks = [GateCheck(g, tuple(p.message for p in problems if p.gate == named[g])) for g in gates]
    listed = set(named.values())
    return (*checks, *(GateCheck(p.gate, (p.message,)) for p in problems if p.gate not in listed))


class PromotionHook(Protocol):
    """What a format makes travel with a promotion (its own pointers: /v2's referrers and cosign
    tags, npm's dist-tags), called inside the promotion's unit of work once the placement is added;
    returns how many items it carried (the audit event's ``carried``). Pointers only: no byte moves."""

    def __call__(
        self, s: MetadataSession, source: str, target: str, artifact: Artifact, *, actor: str, now: datetime
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class _Refusal:
    artifact: Artifact
    problems: list[Problem]


class PromotionService:
    def __init__(
        self,
        metadata: MetadataStore,
        policy: Policy,
        summaries: PromotionSummaries,
        vulnerabilities: VulnerabilityService,
        guard: Guard,
        clock: Clock = utcnow,
        hooks: Sequence[PromotionHook] = (),
    ) -> None:
        self._hooks = tuple(hooks)
        self._guard = guard
        self._metadata = metadata
        self._policy = policy
        self._summaries = summaries
        self._vulnerabilities = vulnerabilities
        self._clock = clock

    def check(self, ref: ArtifactRef, *, to: str, actor: Actor) -> PromotionCheck:
        """The dry run of ``promote``, every gate met or not (with the same rights: a denial is audited)."""
        try:
            result = self.promote(ref, to=to, actor=actor, dry_run=True)
        except PromotionRefused as refused:
            sealed = self._policy.registry(to).seal_on_promotion
            gates = gate_checks(_gates(self._policy.registry(to)), refused.problems)
            return PromotionCheck(str(refused.details["ref"]), to, "refused", sealed, gates, refused.message)
        return PromotionCheck(result.artifact.ref, to, result.status, result.sealed, gate_checks(result.gates, ()))

    def promote(
        self,
        ref: ArtifactRef,
        *,
        to: str,
        actor: Actor,
        dry_run: bool = False,
        reason: str | None = None,
        pipeline: Pipeline | None = None,
    ) -> PromotionResult:
        target = self._policy.registry(to)
        self._guard.require(actor, Right.PROMOTE, to, asked=f"promote {ref} into {to}", subject=str(ref))
        gates = _gates(target)

        def unit_of_work() -> PromotionResult | _Refusal:
            with self._metadata.session() as s:
                artifact = resolve(s, ref)
                evidence = gather_evidence(s, artifact)
                if target.require_sbom or target.max_severity is not None:
                    sboms, found = self._vulnerabilities.severities(s, artifact.digest)
                    pending = not sboms and s.jobs.pending(SBOM, str(artifact.digest))
                    evidence = replace(evidence, sboms=sboms, sbom_pending=pending, vulnerabilities=found)
                if to in evidence.registries:
                    sealed = any(p.sealed for p in s.placements.of(artifact.id) if p.registry == to)
                    return PromotionResult(artifact, to, sealed, "already-promoted", gates)
                problems = self._policy.promotion_problems(artifact, evidence, to)
                if problems:
                    return _Refusal(artifact, problems)
                if dry_run:
                    return PromotionResult(artifact, to, target.seal_on_promotion, "planned", gates)
                now = self._clock()
                s.placements.add(
                    artifact.id,
                    to,
                    sealed=target.seal_on_promotion,
                    via=PlacementVia.PROMOTION,
                    actor=actor.name,
                    now=now,
                )
                source = next(r for r in target.promote_from if r in evidence.registries)
                carried = sum(hook(s, source, to, artifact, actor=actor.name, now=now) for hook in self._hooks)
                summary = self._summaries.issue(
                    s,
                    artifact,
                    evidence,
                    source=source,
                    to=to,
                    gates=gates,
                    actor=actor,
                    pipeline=pipeline,
                    reason=reason,
                    now=now,
                )
                s.audit.append(
                    artifact_event(
                        Action.PROMOTE,
                        artifact,
                        actor,
                        pipeline,
                        to=to,
                        sources=sorted(evidence.registries),
                        sealed=target.seal_on_promotion,
                        gates=list(gates),
                        reason=reason,
                        carried=carried,
                        summary=str(summary),
                    ),
                    now=now,
                )
                return PromotionResult(artifact, to, target.seal_on_promotion, "promoted", gates)

        outcome = retrying(unit_of_work)
        if isinstance(outcome, PromotionResult):
            return outcome
        problems = [p.as_dict() for p in outcome.problems]
        if not dry_run:
            record_refusal(
                self._metadata,
                artifact_event(
                    Action.PROMOTE_REFUSED,
                    outcome.artifact,
                    actor,
                    pipeline,
                    to=to,
                    problems=problems,
                    reason=reason,
                ),
                self._clock,
            )
        verb = "would refuse" if dry_run else "refused"
        raise PromotionRefused(
            f"promotion of {outcome.artifact.ref} to {to} {verb}: {describe_problems(outcome.problems)}",
            outcome.problems,
            ref=outcome.artifact.ref,
            to=to,
            digest=str(outcome.artifact.digest),
        )


def _gates(target: RegistryPolicy) -> tuple[str, ...]:
    """The gates a promotion into ``target`` passes, in the order they are checked."""
    return (
        "source",
        "ceiling",
        *(("signature",) if target.require_signature else ()),
        *(("provenance",) if target.trusted_builders else ()),
        *(("sbom",) if target.require_sbom else ()),
        *((f"vulnerabilities<={target.max_severity.name.lower()}",) if target.max_severity is not None else ()),
        *(f"attestation:{a}" for a in target.promotion_gates.attestations),
    )
