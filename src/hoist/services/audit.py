"""Reading the audit trail: pages of events, an artifact's history, and chain verification."""

from __future__ import annotations

from collections.abc import Iterator

from hoist.domain.events import AuditEvent, ChainReport, verify_chain
from hoist.domain.models import ArtifactRef
from hoist.domain.ports import MetadataStore
from hoist.services.catalog import resolve

PAGE = 1000


class AuditService:
    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

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
