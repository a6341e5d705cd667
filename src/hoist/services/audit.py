"""Reading the audit trail: pages of events, an artifact's history, and chain verification."""

from __future__ import annotations

from collections.abc import Iterator

from hoist.domain import attestations as a
from hoist.domain.access import Right
from hoist.domain.errors import IntegrityFailure
from hoist.domain.events import AuditEvent, ChainMark, ChainReport, EventFilter, verify_chain
from hoist.domain.models import Actor, ArtifactRef
from hoist.domain.ports import MetadataSession, MetadataStore, Signer
from hoist.services.base import Clock, retrying, utcnow
from hoist.services.catalog import resolve
from hoist.services.guard import Guard
from hoist.services.statements import rfc3339

PAGE = 1000


class AuditService:
    """The whole trail needs the ``audit`` right (auditors, administrators); one package's or
    version's history needs read on a registry holding one of its versions."""

    def __init__(self, metadata: MetadataStore, signer: Signer, guard: Guard, clock: Clock = utcnow) -> None:
        self._metadata = metadata
        self._signer = signer
        self._guard = guard
        self._clock = clock

    def _auditor(self, actor: Actor) -> None:
        self._guard.require(actor, Right.AUDIT, asked="read the audit trail", subject="audit")

    def events(self, *, actor: Actor, after: int = 0, limit: int = PAGE) -> list[AuditEvent]:
        self._auditor(actor)
        return self._page(after, limit)

    def _page(self, after: int, limit: int = PAGE) -> list[AuditEvent]:
        with self._metadata.reader() as s:
            return list(s.audit.events(after=after, limit=min(max(limit, 1), PAGE)))

    def search(self, where: EventFilter, *, actor: Actor, before: int | None = None, limit: int = 50) -> list[AuditEvent]:
        """The newest events matching ``where`` below seq ``before``, newest first, at most
        ``limit`` (up to a page): the filters and the paging run in the database."""
        self._auditor(actor)
        with self._metadata.reader() as s:
            return list(s.audit.search(where, before=before, limit=min(max(limit, 1), PAGE)))

    def all_events(self, *, actor: Actor) -> Iterator[AuditEvent]:
        self._auditor(actor)
        return self._all()

    def _all(self) -> Iterator[AuditEvent]:
        after = 0
        while page := self._page(after):
            yield from page
            after = page[-1].seq

    def history(self, ref: ArtifactRef | str, *, actor: Actor) -> list[AuditEvent]:
        """Every event of a package (a name) or of one artifact (a reference)."""
        if not actor.may(Right.AUDIT):
            package = ref if isinstance(ref, str) else ref.package
            with self._metadata.reader() as s:
                where = {p.registry for a in s.artifacts.find(package=package) for p in s.placements.of(a.id)}
            self._guard.require_read(actor, where, asked=f"read the history of {ref}", subject=str(ref))
        with self._metadata.reader() as s:
            if isinstance(ref, str):
                return list(s.audit.events(package=ref))
            artifact = resolve(s, ref)
            return list(s.audit.events(package=artifact.package, subject=artifact.ref))

    def marks(self, *, actor: Actor) -> list[ChainMark]:
        """Where the chain must still pass: the recorded head and the latest signed checkpoint.
        Read them before the events, so events appended meanwhile only extend the chain."""
        self._auditor(actor)
        with self._metadata.reader() as s:
            return chain_marks(s)

    def verify(self, *, actor: Actor) -> ChainReport:
        return verify_chain(self._all(), self.marks(actor=actor))

    def checkpoint(self, *, actor: Actor) -> bytes:
        """A DSSE envelope, signed with the server key, naming the chain's head now; recorded, so
        that every later verification checks the chain still reaches it."""
        report = self.verify(actor=actor)
        if not report.ok:
            raise IntegrityFailure(f"the audit chain is broken at event {report.broken_at}: no checkpoint signed")
        now = self._clock()

        def record() -> None:
            with self._metadata.session() as s:
                s.audit.record_checkpoint(report.checked, report.head, now=now)

        retrying(record)
        body = a.checkpoint(seq=report.checked, head=report.head, time=rfc3339(now), key_id=self._signer.key_id)
        signature = self._signer.sign(a.pae(a.CHECKPOINT, body))
        return a.envelope(body, signature, payload_type=a.CHECKPOINT, key_id=self._signer.key_id)


def chain_marks(s: MetadataSession) -> list[ChainMark]:
    latest = s.audit.latest_checkpoint()
    return [s.audit.head(), *([latest] if latest else [])]
