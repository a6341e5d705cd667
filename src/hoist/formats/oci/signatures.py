"""cosign's signatures as evidence: the manifest hook /v2 registers (``app.py``). Every manifest
pushed is checked through the ``SignatureVerifier`` before its unit of work (the cryptography stays
outside the transaction), and each signature it carries is recorded inside it as an attachment of
kind ``signature`` bound to the digest it signs, with its audit event."""

from __future__ import annotations

from collections.abc import Callable

from hoist.domain.digests import Digest
from hoist.domain.events import Action, EventDraft
from hoist.domain.manifests import Manifest
from hoist.domain.models import Actor, AttachmentKind, Pipeline, Result
from hoist.domain.ports import MetadataSession, SignatureCheck, SignatureVerifier
from hoist.services.base import Clock, utcnow
from hoist.services.repositories import ManifestRecorder


class CosignSignatures:
    def __init__(self, verifier: SignatureVerifier, clock: Clock = utcnow) -> None:
        self._verifier = verifier
        self._clock = clock

    def __call__(self, manifest: Manifest, read: Callable[[Digest], bytes]) -> ManifestRecorder:
        checks = self._verifier.check(manifest, read)

        def record(s: MetadataSession, registry: str, package: str, actor: Actor, pipeline: Pipeline | None) -> None:
            self._record(s, registry, package, manifest.digest, checks, actor, pipeline)

        return record

    def _record(
        self,
        s: MetadataSession,
        registry: str,
        package: str,
        carrier: Digest,
        checks: list[SignatureCheck],
        actor: Actor,
        pipeline: Pipeline | None,
    ) -> None:
        """Each signature verified on arrival becomes evidence bound to the digest it signs (once:
        cosign re-pushes the whole .sig manifest each time it appends a signature)."""
        now = self._clock()
        for check in checks:
            if check.subject is None:
                continue
            known = {
                a.details.get("fingerprint") for a in s.attachments.of(check.subject) if a.kind is AttachmentKind.SIGNATURE
            }
            if check.fingerprint in known:
                continue
            details: dict[str, object] = {"fingerprint": check.fingerprint, "carrier": str(carrier), "registry": registry}
            details.update(
                {
                    k: v
                    for k, v in (
                        ("key", check.key),
                        ("reason", check.reason),
                        ("predicate_type", check.predicate_type),
                        ("builder", check.builder),
                    )
                    if v
                }
            )
            s.attachments.add(
                subject=check.subject,
                kind=AttachmentKind.SIGNATURE,
                type=check.format,
                result=Result.PASS if check.ok else Result.FAIL,
                environment=None,
                actor=actor.name,
                now=now,
                details=details,
                pipeline=pipeline,
            )
            artifact = s.artifacts.by_digest(package, check.subject)
            where = artifact.ref if artifact else f"{registry}/{package}@{check.subject}"
            s.audit.append(
                EventDraft(
                    action=Action.SIGN,
                    actor=actor.name,
                    subject=where,
                    package=package,
                    digest=str(check.subject),
                    details={k: str(v) for k, v in details.items()} | {"verified": str(check.ok).lower()},
                    pipeline=pipeline.as_dict() if pipeline else None,
                ),
                now=now,
            )
