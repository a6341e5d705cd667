"""Evidence bound to an artifact's digest: attestations (typed results) and approvals."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hoist.domain import attestations as a
from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidEvidence, InvalidInput
from hoist.domain.events import Action
from hoist.domain.junit import summarize_junit
from hoist.domain.models import Actor, Artifact, ArtifactRef, Attachment, AttachmentKind, Pipeline, Result
from hoist.domain.policy import Evidence, Policy
from hoist.domain.ports import MetadataSession, MetadataStore, OpenedStatement, StatementVerifier
from hoist.services.base import Clock, artifact_event, retrying, utcnow
from hoist.services.catalog import resolve
from hoist.services.statements import SignedStatements, rfc3339

_TYPE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def gather_evidence(s: MetadataSession, artifact: Artifact) -> Evidence:
    return Evidence(
        attachments=s.attachments.of(artifact.digest),
        registries=frozenset(p.registry for p in s.placements.of(artifact.id)),
        succeeded_in=s.deployments.succeeded_environments(artifact.id),
        held_in=frozenset(h.environment for h in s.holds.of(artifact.id)),
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
        clock: Clock = utcnow,
    ) -> None:
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
    ) -> Attachment:
        if not _TYPE.fullmatch(type):
            raise InvalidInput(f"attestation type {type!r} is invalid: use lowercase letters, digits, '.', '_' or '-'")
        if (result is None) == (junit is None):
            raise InvalidInput("give exactly one of --result and --junit")
        if environment is not None:
            self._policy.environment(environment)
        details: dict[str, object] = {}
        configuration: list[dict[str, object]] = []
        failed: list[str] = []
        if junit is not None:
            summary = summarize_junit(junit)
            result = summary.result
            details = {"source": "junit", **summary.as_dict()}
            report = Digest.of(junit)
            configuration = [{"name": "junit.xml", "digest": {report.algorithm: report.hex}}]
            failed = list(summary.failed_cases)
        assert result is not None
        predicate = a.test_result(
            result="PASSED" if result is Result.PASS else "FAILED",
            kind=type,
            environment=environment,
            url=pipeline.url if pipeline else None,
            configuration=configuration,
            failed=failed,
            counts={k: v for k, v in details.items() if k in ("tests", "failures", "errors", "skipped")},
        )

        def unit_of_work() -> Attachment:
            with self._metadata.session() as s:
                artifact = resolve(s, ref)
                now = self._clock()
                predicate["hoist"]["actor"] = actor.name
                signed = self._statements.attach(
                    s, artifact, _registries(s, artifact), predicate_type=a.TEST_RESULT, predicate=predicate, now=now
                )
                attachment = s.attachments.add(
                    subject=artifact.digest,
                    kind=AttachmentKind.ATTESTATION,
                    type=type,
                    result=result,
                    environment=environment,
                    actor=actor.name,
                    now=now,
                    details={**details, **signed.as_details()},
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
        self._policy.environment(environment)
        opened = self._verifier.open(envelope) if envelope is not None else None
        if opened is not None:
            _check_signed_approval(opened, environment, actor)

        def unit_of_work() -> ApprovalResult:
            with self._metadata.session() as s:
                artifact = resolve(s, ref)
                counts = actor.name != artifact.pushed_by
                note = None if counts else f"{actor} pushed {artifact.ref}: their approval does not count"
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
                if opened is not None and envelope is not None:
                    if str(artifact.digest) not in opened.subjects:
                        about = ", ".join(opened.subjects)
                        raise InvalidEvidence(f"the signed approval is about {about}, not {artifact.ref}")
                    signed = self._statements.place(
                        s, artifact, _registries(s, artifact), envelope=envelope, predicate_type=a.APPROVAL, now=now
                    )
                else:
                    signed = self._statements.attach(
                        s, artifact, _registries(s, artifact), predicate_type=a.APPROVAL, predicate=predicate, now=now
                    )
                signer = {"signed_by": opened.key} if opened is not None and opened.key else {}
                attachment = s.attachments.add(
                    subject=artifact.digest,
                    kind=AttachmentKind.APPROVAL,
                    type="approval",
                    result=None,
                    environment=environment,
                    actor=actor.name,
                    now=now,
                    details={**({"comment": comment} if comment else {}), **signed.as_details(), **signer},
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


def _check_signed_approval(opened: OpenedStatement, environment: str, actor: Actor) -> None:
    if opened.key is None:
        raise InvalidEvidence(f"the signed approval does not verify with any configured key: {opened.problem}")
    if opened.predicate_type != a.APPROVAL:
        raise InvalidEvidence(f"the signed statement is a {opened.predicate_type}, not an approval ({a.APPROVAL})")
    if opened.predicate.get("toEnvironment") != environment:
        raise InvalidEvidence(f"the signed approval is for {opened.predicate.get('toEnvironment')!r}, not {environment!r}")
    approver = opened.predicate.get("approver")
    if not isinstance(approver, dict) or approver.get("id") != actor.name:
        raise InvalidEvidence(f"the signed approval names another approver than {actor.name}")
