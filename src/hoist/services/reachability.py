"""What garbage collection must keep: everything reachable, plus whatever may be about to become so.

Live are: every manifest something names (a repository, a version placed in a registry, a version
in the trash until purged), an index's children and every referrer of a live manifest (signatures, SBOMs and
attestations, recursively), the blobs those manifests need (not foreign layers, which live at their
URLs), blobs linked to a repository by an
upload or a mount, uploads still in progress, and blobs committed less than ``grace`` ago (a
manifest naming them may be on its way). Only what is outside all of that may ever be swept.

Deployments are not roots: what a rollback may return to (running, in the rollback window) keeps its
placement (retention's guarantees and the delete rule refuse to take it), and a rollback or drill
checks the bytes are present before it counts on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt, BlobNotFound
from hoist.domain.manifests import Descriptor, Manifest
from hoist.domain.ports import BlobStore, MetadataStore

DEFAULT_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class LiveSet:
    manifests: frozenset[Digest]
    blobs: frozenset[Digest]
    uploads: frozenset[str]


def live_set(metadata: MetadataStore, blobs: BlobStore) -> LiveSet:
    with metadata.reader() as s:
        pending = list(s.manifests.roots())
        needed: set[Digest] = set(s.repositories.linked_blobs())
        graph = s.manifests.graph()  # every edge at once: a mark costs a few statements, not one per manifest
    manifests: set[Digest] = set()
    while pending:
        digest = pending.pop()
        if digest in manifests or digest not in graph.manifests:  # named but missing: fsck reports it
            continue
        manifests.add(digest)
        for target in graph.references.get(digest, ()):
            if target in graph.manifests:  # an index's child
                pending.append(target)
            else:
                needed.add(target)
        pending += graph.referrers.get(digest, ())
    uploads = frozenset(u.upload_id for u in blobs.uploads())
    return LiveSet(frozenset(manifests), frozenset(needed), uploads)


def stored_descriptors(manifest: Manifest, blobs: BlobStore) -> list[Descriptor]:
    """The config and layers whose bytes this store must hold: all of them, except foreign
    (non-distributable) layers it was never given; one that is stored is checked like any other."""
    return [d for _, d in manifest.blob_descriptors() if not d.foreign or _stored(blobs, d.digest)]


def _stored(blobs: BlobStore, digest: Digest) -> bool:
    try:
        blobs.stat(digest)
    except BlobCorrupt:
        return True
    except BlobNotFound:
        return False
    return True


def sweepable(live: LiveSet, blobs: BlobStore, *, now: datetime, grace: timedelta = DEFAULT_GRACE) -> Iterator[Digest]:
    """Stored blobs no live manifest, link or recent commit protects."""
    for digest in blobs.digests():
        if digest in live.blobs:
            continue
        try:
            info = blobs.stat(digest)
        except BlobNotFound:
            continue
        if info.stored_at is None or now - info.stored_at < grace:
            continue
        yield digest
