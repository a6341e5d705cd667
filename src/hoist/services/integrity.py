"""Is a stored artifact still whole? Its manifest must hash to its digest, and every blob it
references must be present and hash to its own digest.

The hashing is the store's: a whole read through ``Blobs.open`` verifies the blob and marks it
corrupt when it is not, so a drill, a rollback or fsck that finds rotten bytes also stops them from
being served to the next reader."""

from __future__ import annotations

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt, BlobNotFound, Problem
from hoist.domain.manifests import Manifest
from hoist.services.blobs import Blobs
from hoist.services.reachability import stored_descriptors

_READ_SIZE = 1024 * 1024


def read_through(blobs: Blobs, digest: Digest) -> int:
    """Read the whole blob, so the store checks it (and marks it corrupt if it is): its size.
    Raises BlobNotFound, BlobCorrupt."""
    total = 0
    with blobs.open(digest) as f:
        while block := f.read(_READ_SIZE):
            total += len(block)
    return total


def blob_problem(blobs: Blobs, digest: Digest, size: int | None = None) -> Problem | None:
    try:
        total = read_through(blobs, digest)
    except BlobNotFound:
        return Problem("intact", f"blob {digest} is missing")
    except BlobCorrupt as exc:
        return Problem("intact", exc.message)
    if size is not None and total != size:
        return Problem("intact", f"blob {digest} holds {total} bytes, not {size}")
    return None


def manifest_problems(blobs: Blobs, expected: Digest, manifest: Manifest | None) -> list[Problem]:
    if manifest is None:
        return [Problem("present", f"manifest {expected} is missing")]
    if Digest.of(manifest.raw, expected.algorithm) != expected:
        return [Problem("intact", f"manifest {expected} does not hash to its digest")]
    descriptors = stored_descriptors(manifest, blobs)
    return [p for d in descriptors if (p := blob_problem(blobs, d.digest, d.size)) is not None]
