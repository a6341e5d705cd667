"""Reading the audit trail: pages of events, an artifact's history, and chain verification."""

from __future__ import annotations

from collections.abc import Iterator

from hoist.domain import attestations as a
from hoist.domain.errors import IntegrityFailure
from hoist.domain.events import AuditEvent, ChainReport, verify_chain
from hoist.domain.models import ArtifactRef
from hoist.domain.ports import MetadataStore, Signer
from hoist.services.base import Clock, utcnow
from hoist.services.catalog import resolve
from hoist.services.statements import rfc3339

PAGE = 1000


class AuditService:
    def __init__(self, metadata: MetadataStore, signer: Signer, clock: Clock = utcnow) -> None:
        self._metadata = metadata
        self._signer = signer
        self._clock = clock

    def events(self, *, after: int = 0, limit: int = PAGE) -> list[AuditEvent]:
        with self._metadata.reader() as s:
            return list(s.audit.events(after=after, limit=min(max(limit, 1), PAGE)))

    def all_events(self) -> Iterator[AuditEvent]:
        after = 0
        while page := self.events(after=after):
            yield from page
            after = page[-1].seq

    def history(self, ref: ArtifactRef | str) -> list[AuditEvent]:
        """Every event of a package (a name) or of one artifact (a reference)."""
        with self._metadata.reader() as s:
            if isinstance(ref, str):
                return list(s.audit.events(package=ref))
            artifact = resolve(s, ref)
            return list(s.audit.events(package=artifact.package, subject=artifact.ref))

    def verify(self) -> ChainReport:
        return verify_chain(self.all_events())

    def checkpoint(self) -> bytes:
        """A DSSE envelope, signed with the server key, naming the chain's head now."""
        report = self.verify()
        if not report.ok:
            raise IntegrityFailure(f"the audit chain is broken at event {report.broken_at}: no checkpoint signed")
        body = a.checkpoint(seq=report.checked, head=report.head, time=rfc3339(self._clock()), key_id=self._signer.key_id)
        signature = self._signer.sign(a.pae(a.CHECKPOINT, body))
        return a.envelope(body, signature, payload_type=a.CHECKPOINT, key_id=self._signer.key_id)
