"""The verification summary a promotion leaves behind: a SLSA VSA, signed with the server's key,
stored as an OCI referrer of the artifact in the target registry (so it travels with it and anyone
can verify it offline with the server's public key), and recorded as evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hoist import __version__
from hoist.domain import attestations as a
from hoist.domain.digests import Digest
from hoist.domain.errors import IntegrityFailure
from hoist.domain.manifests import EMPTY_BLOB, EMPTY_DIGEST, EMPTY_MEDIA_TYPE, OCI_MANIFEST, parse_manifest
from hoist.domain.models import Actor, Artifact, AttachmentKind, Pipeline, Result
from hoist.domain.policy import Evidence, Policy
from hoist.domain.ports import BlobStore, MetadataSession, Signer

SUMMARY_TYPE = "verification-summary"


class PromotionSummaries:
    def __init__(self, signer: Signer, blobs: BlobStore, policy: Policy) -> None:
        self._signer = signer
        self._blobs = blobs
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
        time = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        subject = s.manifests.get(artifact.digest)
        if subject is None:
            raise IntegrityFailure(f"the manifest of {artifact.ref} is missing")
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
        body = a.statement(f"{to}/{artifact.package}", artifact.digest, a.VSA, predicate)
        envelope = a.envelope(body, self._signer.sign(a.pae(a.IN_TOTO, body)), key_id=self._signer.key_id)
        layer = self._store(envelope)
        self._store(EMPTY_BLOB)
        manifest = parse_manifest(
            _compact(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "artifactType": a.IN_TOTO,
                    "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": str(EMPTY_DIGEST), "size": len(EMPTY_BLOB)},
                    "layers": [
                        {
                            "mediaType": a.DSSE_LAYER,
                            "digest": str(layer),
                            "size": len(envelope),
                            "annotations": {"predicateType": a.VSA},
                        }
                    ],
                    "subject": {"mediaType": subject.media_type, "digest": str(artifact.digest), "size": len(subject.raw)},
                    "annotations": {"dev.hoist.predicateType": a.VSA, "org.opencontainers.image.created": time},
                }
            )
        )
        s.manifests.add(manifest, now=now)
        s.repositories.add_manifest(to, artifact.package, manifest.digest, now=now)
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
                "manifest": str(manifest.digest),
                "envelope": str(layer),
                "policy": str(self._policy_digest),
                "server_key": self._signer.key_id,
            },
        )
        return manifest.digest

    def _store(self, data: bytes) -> Digest:
        digest = Digest.of(data)
        writer = self._blobs.writer()
        writer.write(data)
        writer.commit(digest)
        return digest


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


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
