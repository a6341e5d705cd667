"""Garbage collection of blobs: mark what is live (``reachability.live_set``), then sweep what is
not, safely against uploads, pushes and promotions running at the same time.

Safety: a blob stored or touched less than ``grace`` before the mark began is never a candidate
(``blob_states.touched_at``; a blob with no row, stored before rows were kept, is adopted as first
seen now); every path that makes a stored blob newly needed touches it before it commits (manifest
and artifact pushes, mounts, uploads of bytes already stored); and ``Blobs.collect`` deletes a
candidate's bytes only with its row locked and untouched since the mark began, so a touch either
came first (the blob is kept) or waits and then finds the bytes gone (its push is refused). So a
blob a just-committed manifest needs, or an in-flight upload is about to publish, is never
deleted, as long as ``grace`` (an hour by default) is longer than a push takes from touching its
blobs to committing (milliseconds); uploads in progress are not blobs and are never candidates.

Uploads nothing was written to for ``upload_expiry`` (abandoned by crashed clients) are reclaimed
first, and reported: they are already unknown to clients (``UploadService``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hoist.domain.access import Right
from hoist.domain.errors import BlobNotFound
from hoist.domain.events import Action, EventDraft
from hoist.domain.models import Actor
from hoist.domain.ports import MetadataStore
from hoist.services.base import Clock, utcnow
from hoist.services.blobs import Blobs
from hoist.services.guard import Guard
from hoist.services.reachability import DEFAULT_GRACE, live_set, sweepable
from hoist.services.uploads import DEFAULT_UPLOAD_EXPIRY, UploadService


@dataclass(frozen=True, slots=True)
class CollectionReport:
    dry_run: bool
    live_manifests: int
    live_blobs: int
    uploads_in_progress: int
    candidates: int
    collected: int
    bytes_freed: int
    kept_after_all: int  # candidates touched while the sweep ran: kept
    blobs: list[str] = field(default_factory=list)
    uploads_expired: int = 0
    upload_bytes_reclaimed: int = 0
    expired_uploads: list[str] = field(default_factory=list)


class GarbageCollector:
    def __init__(
        self,
        metadata: MetadataStore,
        blobs: Blobs,
        uploads: UploadService,
        guard: Guard,
        clock: Clock = utcnow,
        grace: timedelta = DEFAULT_GRACE,
        upload_expiry: timedelta = DEFAULT_UPLOAD_EXPIRY,
    ) -> None:
        self._metadata = metadata
        self._blobs = blobs
        self._uploads = uploads
        self._guard = guard
        self._clock = clock
        self.grace = grace
        self.upload_expiry = upload_expiry

    def collect(self, actor: Actor, *, dry_run: bool = False) -> CollectionReport:
        self._guard.require(actor, Right.ADMIN, asked="collect garbage", subject="blobs")
        began = self._clock()
        idle_since = began - self.upload_expiry
        expired = self._uploads.expire(idle_since=idle_since, dry_run=dry_run)
        in_progress = len(self._uploads.in_progress())
        stored = list(self._blobs.digests())
        touched = self._blobs.touched()
        if not dry_run:
            # stored before rows were kept: first seen now, collectable one grace later
            self._blobs.adopt([d for d in stored if d not in touched])
            # rows of bytes never stored or gone (a refused push touched what it named) once old
            held = set(stored)
            old = began - self.grace
            self._blobs.forget([d for d, at in touched.items() if d not in held and at < old], older_than=old)
        live = live_set(self._metadata)
        candidates = list(sweepable(live, stored, touched, now=began, grace=self.grace))
        freed, collected, kept = 0, [], 0
        for digest in candidates:
            if dry_run:
                try:
                    freed += self._blobs.stat(digest).size
                except BlobNotFound:
                    continue
                collected.append(str(digest))
                continue
            size = self._blobs.collect(digest, older_than=began - self.grace)
            if size is None:
                kept += 1
            else:
                freed += size
                collected.append(str(digest))
        report = CollectionReport(
            dry_run=dry_run,
            live_manifests=len(live.manifests),
            live_blobs=len(live.blobs),
            uploads_in_progress=in_progress - (len(expired) if dry_run else 0),
            candidates=len(candidates),
            collected=len(collected),
            bytes_freed=freed,
            kept_after_all=kept,
            blobs=collected,
            uploads_expired=len(expired),
            upload_bytes_reclaimed=sum(u.size for u in expired),
            expired_uploads=[u.upload_id for u in expired],
        )
        if not dry_run:
            with self._metadata.session() as s:
                s.audit.append(
                    EventDraft(Action.COLLECT, actor=actor.name, subject="blobs", details=_details(report)),
                    now=self._clock(),
                )
        return report


def _details(report: CollectionReport) -> dict[str, int | bool]:
    return {
        "candidates": report.candidates,
        "collected": report.collected,
        "bytes_freed": report.bytes_freed,
        "kept_after_all": report.kept_after_all,
        "live_blobs": report.live_blobs,
        "uploads_expired": report.uploads_expired,
        "upload_bytes_reclaimed": report.upload_bytes_reclaimed,
    }
