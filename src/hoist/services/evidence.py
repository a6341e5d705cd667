"""Evidence bound to an artifact's digest: attestations (typed results) and approvals."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hoist.domain import attestations as a
from hoist.domain.access import Permission, Right
from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidEvidence, InvalidInput
from hoist.domain.events import Action
from hoist.domain.models import (
    Actor,
    Artifact,
    ArtifactRef,
    Attachment,
    AttachmentKind,
    Hold,
    Pipeline,
    Placement,
    PlacementVia,
    Result,
)
from hoist.domain.names import clip
from hoist.domain.policy import EnvironmentPolicy, Evidence, FourEyes, Policy
from hoist.domain.ports import MetadataSession, MetadataStore, OpenedStatement, StatementVerifier
from hoist.services.base import Clock, artifact_event, retrying, utcnow
from hoist.services.catalog import holding, resolve
from hoist.services.guard import Guard
from hoist.services.statements import SignedStatements, rfc3339

_TYPE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def gather_evidence(s: MetadataSession, artifact: Artifact) -> Evidence:
    return evidence_of(
        s.attachments.of(artifact.digest),
        s.placements.of(artifact.id),
        s.deployments.succeeded_environments(artifact.id),
        s.holds.of(artifact.id),
    )


def evidence_of(
    attachments: Sequence[Attachment], placements: Iterable[Placement], succeeded_in: frozenset[str], holds: Iterable[Hold]
) -> Evidence:
    """The evidence the gates read, from what was read about one artifact (alone, or for a whole board)."""
    placed = list(placements)
    return Evidence(
        attachments=attachments,
        registries=frozenset(p.registry for p in placed),
        promoters={p.registry: p.placed_by for p in placed if p.via is PlacementVia.PROMOTION},
        succeeded_in=succeeded_in,
        held_in=frozenset(h.environment for h in holds),
    )


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    attachment: Attachment
    counts: bool
    note: str | None
    released_hold: bool
    created: bool


class EvidenceService:
    def __init__(
        self,
        metadata: MetadataStore,
        policy: Policy,
        statements: SignedStatements,
        verifier: StatementVerifier,
        guard: Guard,
        clock: Clock = utcnow,
    ) -> None:
        self._guard = guard
        self._metadata = metadata
        self._policy = policy
        self._statements = statements
        self._verifier = verifier
        self._clock = clock

    def attest(
        self,
        ref: ArtifactRef,
        *,
        type: str,
        actor: Actor,
        result: Result | None = None,
        junit: bytes | None = None,
        environment: str | None = None,
        pipeline: Pipeline | None = None,
        envelope: bytes | None = None,
    ) -> Attachment:
        """With ``envelope``, the result is the attester's own statement (e.g. CI's key), checked to say
        exactly what the server derives from the same input."""
        if not _TYPE.fullmatch(type):
            raise InvalidInput(f"attestation type {clip(type)!r} is invalid: use lowercase letters, digits, '.', '_' or '-'")
        if (result is None) == (junit is None):
            raise InvalidInput("give exactly one of --result and --junit")
        if environment is not None:
            self._policy.environment(environment)
        needed = [Permission(Right.PUSH, r) for r in holding(self._metadata, ref)]
        needed += [Permission(Right.DEPLOY, environment)] if environment else []
        self._guard.require_any(actor, needed, asked=f"attest {type} for {ref}", subject=str(ref))
        predicate, passed, details = a.test_result_of(
            kind=type,
            actor=actor.name,
            environment=environment,
            url=pipeline.url if pipeline else None,
            passed=None if result is None else result is Result.PASS,
            junit=junit,
        )
        result = Result.PASS if passed else Result.FAIL
        opened = self._verifier.open(envelope) if envelope is not None else None
        if opened is not None:
            _check_signed(opened, a.TEST_RESULT, actor)
            _check_same_result(opened.predicate, predicate)

        def unit_of_work() -> Attachment:
            with self._metadata.session() as s:
                artifact = resolve(s, ref)
                now = self._clock()
                statement = self._statement(s, artifact, a.TEST_RESULT, predicate, envelope, opened, now)
                attachment = s.attachments.add(
                    subject=artifact.digest,
                    kind=AttachmentKind.ATTESTATION,
                    type=type,
                    result=result,
                    environment=environment,
                    actor=actor.name,
                    now=now,
                    details={**details, **statement},
                    pipeline=pipeline,
                )
                s.audit.append(
                    artifact_event(
                        Action.ATTEST,
                        artifact,
                        actor,
                        pipeline,
                        type=type,
                        result=str(result),
                        environment=environment,
                        attachment=attachment.id,
                        **details,
                    ),
                    now=now,
                )
                return attachment

        return retrying(unit_of_work)

    def _statement(
        self,
        s: MetadataSession,
        artifact: Artifact,
        predicate_type: str,
        predicate: dict[str, Any],
        envelope: bytes | None,
        opened: OpenedStatement | None,
        now: datetime,
    ) -> dict[str, str]:
        """The evidence's statement: the client's own envelope when it signed one (already checked
        against the keyring), else one the server signs; returns the attachment's details for it."""
        registries = _registries(s, artifact)
        if envelope is None or opened is None or opened.key is None:
            made = self._statements.attach(
                s, artifact, registries, predicate_type=predicate_type, predicate=predicate, now=now
            )
            return made.as_details()
        _check_subject(opened, artifact)
        placed = self._statements.place(s, artifact, registries, envelope=envelope, predicate_type=predicate_type, now=now)
        return {**placed.as_details(), "signed_by": opened.key}

    def check_approver(self, ref: ArtifactRef, *, environment: str, actor: Actor) -> EnvironmentPolicy:
        """``actor`` may approve for ``environment`` (else the denial ``approve`` gives, audited)."""
        env = self._policy.environment(environment)
        asked = f"approve {ref} for {environment}"
        self._guard.require(actor, Right.APPROVE, environment, asked=asked, subject=str(ref))
        if (why := env.approver_problem(actor.kind)) is not None:
            self._guard.deny(actor, [], asked=asked, subject=str(ref), why=why)
        return env

    def approve(
        self,
        ref: ArtifactRef,
        *,
        environment: str,
        actor: Actor,
        comment: str | None = None,
        pipeline: Pipeline | None = None,
        envelope: bytes | None = None,
    ) -> ApprovalResult:
        """With ``envelope``, the approval is the approver's own: a DSSE envelope they signed with a
        key named under [keys], carrying an approval statement for this digest and environment."""
        env = self.check_approver(ref, environment=environment, actor=actor)
        opened = self._verifier.open(envelope) if envelope is not None else None
        if opened is not None:
            _check_signed(opened, a.APPROVAL, actor)
            if opened.predicate.get("toEnvironment") != environment:
                wrong = opened.predicate.get("toEnvironment")
                raise InvalidEvidence(f"the signed approval is for {wrong!r}, not {environment!r}")

        def unit_of_work() -> ApprovalResult:
            with self._metadata.session() as s:
                artifact = resolve(s, ref)
                did = FourEyes.reading(artifact, gather_evidence(s, artifact), env.registry).why_not(actor.name)
                counts = did is None
                note = None if counts else f"{actor} {did} {artifact.ref}: their approval does not count (four eyes)"
                held = environment in {h.environment for h in s.holds.of(artifact.id)}
                for existing in s.attachments.of(artifact.digest):
                    # approving twice is a no-op, except to lift a hold: that needs a fresh approval
                    if (
                        existing.kind is AttachmentKind.APPROVAL
                        and existing.environment == environment
                        and existing.actor == actor.name
                        and not (held and counts)
                        and (opened is None or existing.details.get("signed_by"))  # a signature upgrades it
                    ):
                        return ApprovalResult(existing, counts, note, released_hold=False, created=False)
                now = self._clock()
                reviewed = [
                    {"uri": f"hoist:attachment/{x.id}", "digest": _envelope_digest(x)}
                    for x in s.attachments.of(artifact.digest)
                    if x.kind is AttachmentKind.ATTESTATION and "envelope" in x.details
                ]
                predicate = a.approval(
                    approver=actor.name,
                    environment=environment,
                    time=rfc3339(now),
                    comment=comment,
                    counts=counts,
                    reviewed=reviewed,
                )
                statement = self._statement(s, artifact, a.APPROVAL, predicate, envelope, opened, now)
                attachment = s.attachments.add(
                    subject=artifact.digest,
                    kind=AttachmentKind.APPROVAL,
                    type="approval",
                    result=None,
                    environment=environment,
                    actor=actor.name,
                    now=now,
                    details={**({"comment": comment} if comment else {}), **statement},
                    pipeline=pipeline,
                )
                released = counts and s.holds.release(artifact.id, environment)
                s.audit.append(
                    artifact_event(
                        Action.APPROVE,
                        artifact,
                        actor,
                        pipeline,
                        environment=environment,
                        counts=counts,
                        comment=comment,
                    ),
                    now=now,
                )
                if released:
                    s.audit.append(
                        artifact_event(
                            Action.RELEASE_HOLD,
                            artifact,
                            actor,
                            pipeline,
                            environment=environment,
                        ),
                        now=now,
                    )
                return ApprovalResult(attachment, counts, note, released, created=True)

        return retrying(unit_of_work)


def _registries(s: MetadataSession, artifact: Artifact) -> list[str]:
    """Evidence is attached wherever the artifact is placed, and travels on with later promotions."""
    return [p.registry for p in s.placements.of(artifact.id)]


def _envelope_digest(x: Attachment) -> dict[str, str]:
    digest = Digest.parse(str(x.details["envelope"]))
    return {digest.algorithm: digest.hex}


def _check_signed(opened: OpenedStatement, predicate_type: str, actor: Actor) -> None:
    """A client-signed statement: verified by a configured key, of the right kind, made by this actor."""
    if opened.key is None:
        raise InvalidEvidence(f"the signed statement does not verify with any configured key: {opened.problem}")
    if opened.predicate_type != predicate_type:
        raise InvalidEvidence(f"the signed statement is a {opened.predicate_type}, not a {predicate_type}")
    field = "approver" if predicate_type == a.APPROVAL else "hoist"
    named = opened.predicate.get(field)
    who = named.get("id" if field == "approver" else "actor") if isinstance(named, dict) else None
    if who != actor.name:
        role = "approver" if field == "approver" else "actor"
        raise InvalidEvidence(f"the signed statement names another {role} than {actor.name}")


def _check_subject(opened: OpenedStatement, artifact: Artifact) -> None:
    if str(artifact.digest) not in opened.subjects:
        raise InvalidEvidence(f"the signed statement is about {', '.join(opened.subjects)}, not {artifact.ref}")


def _check_same_result(signed: dict[str, object], derived: dict[str, object]) -> None:
    """The signed test result must say what the server derives from the same input (no ``pass`` for a
    failing report); only the CI run's URL may differ."""
    fields = ("result", "configuration", "failedTests", "hoist")
    different = [f for f in fields if signed.get(f) != derived.get(f)]
    if different:
        raise InvalidEvidence(f"the signed test result does not match what was submitted: {', '.join(different)} differ")
