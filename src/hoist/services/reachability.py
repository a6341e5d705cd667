"""What garbage collection must keep: everything reachable, plus whatever may be about to become so.

Live are: every manifest something names (a repository, a version placed in a registry, a version
in the trash until purged), an index's children and every referrer of a live manifest (signatures, SBOMs and
attestations, recursively), the blobs those manifests need (not foreign layers, which live at their
URLs), blobs linked to a repository by an
upload or a mount, and blobs stored or touched less than ``grace`` ago (``blob_states.touched_at``: a
manifest naming them may be on its way). Uploads in progress are not blobs: never candidates. Only
what is outside all of that may ever be swept.

Deployments are not roots: what a rollback may return to (running, in the rollback window) keeps its
placement (retention's guarantees and the delete rule refuse to take it), and a rollback or drill
checks the bytes are present before it counts on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt, BlobNotFound
from hoist.domain.manifests import Descriptor, Manifest
from hoist.domain.ports import MetadataStore
from hoist.services.blobs import Blobs

DEFAULT_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class LiveSet:
    manifests: frozenset[Digest]
    blobs: frozenset[Digest]


def live_set(metadata: MetadataStore) -> LiveSet:
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
    return LiveSet(frozenset(manifests), frozenset(needed))


def stored_descriptors(manifest: Manifest, blobs: Blobs) -> list[Descriptor]:
    """The config and layers whose bytes this store must hold: all of them, except foreign
    (non-distributable) layers it was never given; one that is stored is checked like any other."""
    return [d for _, d in manifest.blob_descriptors() if not d.foreign or _stored(blobs, d.digest)]


def _stored(blobs: Blobs, digest: Digest) -> bool:
    try:
        blobs.stat(digest)
    except BlobCorrupt:
        return True
    except BlobNotFound:
        return False
    return True


def sweepable(
    live: LiveSet, stored: Iterable[Digest], touched: Mapping[Digest, datetime], *, now: datetime, grace: timedelta
) -> Iterator[Digest]:
    """Stored blobs no live manifest, link or recent touch protects (one never touched is not yet
    known when it was stored: not a candidate)."""
    for digest in stored:
        if digest in live.blobs:
            continue
        at = touched.get(digest)
        if at is None or now - at < grace:
            continue
        yield digest
