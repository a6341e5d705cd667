"""The verification summary a promotion leaves behind: a SLSA VSA, signed with the server's key,
stored as an OCI referrer of the artifact in the target registry (so it travels with it and anyone
can verify it offline with the server's public key), and recorded as evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hoist import __version__
from hoist.domain import attestations as a
from hoist.domain.digests import Digest
from hoist.domain.models import Actor, Artifact, AttachmentKind, Pipeline, Result
from hoist.domain.policy import Evidence, Policy
from hoist.domain.ports import MetadataSession
from hoist.services.statements import SignedStatements, rfc3339

SUMMARY_TYPE = "verification-summary"


class PromotionSummaries:
    def __init__(self, statements: SignedStatements, policy: Policy) -> None:
        self._statements = statements
        self._signer = statements.signer
        self._policy_digest = a.policy_digest(policy)

    def issue(
        self,
        s: MetadataSession,
        artifact: Artifact,
        evidence: Evidence,
        *,
        source: str,
        to: str,
        gates: tuple[str, ...],
        actor: Actor,
        pipeline: Pipeline | None,
        reason: str | None,
        now: datetime,
    ) -> Digest:
        """Sign and store the VSA inside the promotion's unit of work; returns its manifest's digest."""
        time = rfc3339(now)
        decision = {
            "artifact": artifact.ref,
            "from": source,
            "to": to,
            "gates": list(gates),
            "actor": actor.name,
            "approvers": sorted(
                {f"{x.actor}@{x.environment}" for x in evidence.attachments if x.kind is AttachmentKind.APPROVAL}
            ),
            "signers": sorted(
                {
                    str(x.details["key"])
                    for x in evidence.attachments
                    if x.kind is AttachmentKind.SIGNATURE and x.result is Result.PASS and "key" in x.details
                }
            ),
            "pipeline": pipeline.as_dict() if pipeline else None,
            "reason": reason,
            "server_key": self._signer.key_id,
        }
        predicate = a.verification_summary(
            resource=f"oci://{to}/{artifact.package}@{artifact.digest}",
            policy=self._policy_digest,
            time_verified=time,
            levels=[f"HOIST_PROMOTED_{to.upper().replace('-', '_')}"],
            inputs=[_input(x, source, artifact.package) for x in evidence.attachments],
            decision=decision,
            version=__version__,
        )
        attached = self._statements.attach(
            s, artifact, [to], predicate_type=a.VSA, predicate=predicate, now=now, subject_name=f"{to}/{artifact.package}"
        )
        s.attachments.add(
            subject=artifact.digest,
            kind=AttachmentKind.ATTESTATION,
            type=SUMMARY_TYPE,
            result=Result.PASS,
            environment=None,
            actor=actor.name,
            now=now,
            pipeline=pipeline,
            details={
                "from": source,
                "to": to,
                **attached.as_details(),
                "policy": str(self._policy_digest),
                "server_key": self._signer.key_id,
            },
        )
        return attached.manifest


def _input(x: Any, source: str, package: str) -> dict[str, Any]:
    carrier = x.details.get("carrier") if x.kind is AttachmentKind.SIGNATURE else None
    uri = f"oci://{source}/{package}@{carrier}" if carrier else f"hoist:attachment/{x.id}"
    record = {
        "kind": str(x.kind),
        "type": x.type,
        "result": str(x.result) if x.result else None,
        "actor": x.actor,
        "environment": x.environment,
        "details": x.details,
    }
    digest = a.record_digest(record)
    return {"uri": uri, "digest": {digest.algorithm: digest.hex}}
