"""``hoist fsck``: is what Hoist stores what it says it stores?

Every stored blob is re-hashed against its digest; a corrupt one is marked at once (the store then
refuses to serve it: never as if it were good) and, with ``quarantine``, moved aside. Every live
manifest's references are checked (its blobs stored, an index's children and a referrer's subject
present, every descriptor's size that of the stored content), and the audit chain is recomputed.
The run is recorded in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hoist.domain.access import Right
from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt, BlobNotFound
from hoist.domain.events import Action, EventDraft, verify_chain
from hoist.domain.manifests import size_mismatches
from hoist.domain.models import Actor
from hoist.domain.ports import MetadataStore
from hoist.services.audit import chain_marks
from hoist.services.base import Clock, utcnow
from hoist.services.blobs import Blobs
from hoist.services.guard import Guard
from hoist.services.integrity import blob_problem
from hoist.services.reachability import live_set


@dataclass(frozen=True, slots=True)
class FsckReport:
    blobs_checked: int
    bytes_checked: int
    corrupt: list[str]
    quarantined: list[str]
    manifests_checked: int
    missing: list[dict[str, str]] = field(default_factory=list)  # a live manifest names what is not stored
    mismatched: list[dict[str, str | int]] = field(default_factory=list)  # a descriptor's size is not the stored one
    chain_ok: bool = True
    chain_checked: int = 0
    chain_broken_at: int | None = None
    chain_reason: str | None = None

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.missing and not self.mismatched and self.chain_ok


class Fsck:
    def __init__(self, metadata: MetadataStore, blobs: Blobs, guard: Guard, clock: Clock = utcnow) -> None:
        self._metadata = metadata
        self._blobs = blobs
        self._guard = guard
        self._clock = clock

    def run(self, actor: Actor, *, quarantine: bool = False) -> FsckReport:
        self._guard.require(actor, Right.ADMIN, asked="run fsck", subject="store")
        checked, size, corrupt, quarantined = 0, 0, [], []
        for digest in self._blobs.digests():
            try:
                size += self._blobs.stat(digest).size
                bad = blob_problem(self._blobs, digest) is not None
            except BlobCorrupt:  # marked by an earlier run and not repaired since
                bad = True
            except BlobNotFound:  # collected meanwhile
                continue
            checked += 1
            if not bad:
                continue
            corrupt.append(str(digest))
            self._blobs.mark_corrupt(digest)
            if quarantine and self._blobs.quarantine(digest):
                quarantined.append(str(digest))
        live = live_set(self._metadata)
        missing, mismatched = [], []
        with self._metadata.reader() as s:
            for manifest_digest in sorted(live.manifests, key=str):
                manifest = s.manifests.get(manifest_digest)
                if manifest is None:
                    continue
                for blob in manifest.blob_digests():
                    if self._missing(blob):
                        missing.append({"manifest": str(manifest_digest), "blob": str(blob)})
                for child in manifest.manifests:
                    if s.manifests.get(child.digest) is None:
                        missing.append({"manifest": str(manifest_digest), "child": str(child.digest)})
                mismatched += [
                    {"manifest": str(manifest_digest), **m.as_dict()}
                    for m in size_mismatches(manifest, self._stored_size, s.manifests.size)
                ]
            marks = chain_marks(s)  # before the events: appends meanwhile only extend the chain
            chain = verify_chain(s.audit.events(), marks)
        report = FsckReport(
            blobs_checked=checked,
            bytes_checked=size,
            corrupt=corrupt,
            quarantined=quarantined,
            manifests_checked=len(live.manifests),
            missing=missing,
            mismatched=mismatched,
            chain_ok=chain.ok,
            chain_checked=chain.checked,
            chain_broken_at=chain.broken_at,
            chain_reason=chain.reason,
        )
        details = {
            "ok": report.ok,
            "corrupt": corrupt,
            "quarantined": quarantined,
            "missing": len(missing),
            "mismatched": len(mismatched),
        }
        with self._metadata.session() as s:
            s.audit.append(EventDraft(Action.FSCK, actor=actor.name, subject="store", details=details), now=self._clock())
        return report

    def _stored_size(self, blob: Digest) -> int | None:
        try:
            return self._blobs.stat(blob).size
        except (BlobCorrupt, BlobNotFound):  # reported as corrupt or missing
            return None

    def _missing(self, blob: Digest) -> bool:
        try:
            self._blobs.stat(blob)
        except BlobCorrupt:
            return False  # reported as corrupt
        except BlobNotFound:
            return True
        return False
