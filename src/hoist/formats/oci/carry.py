"""What travels with a promotion in the OCI view: the promotion hook /v2 registers (``app.py``)."""

from __future__ import annotations

from datetime import datetime

from hoist.domain.digests import Digest
from hoist.domain.models import Artifact
from hoist.domain.ports import MetadataSession
from hoist.domain.tags import attached_tags


def carry(s: MetadataSession, source: str, target: str, artifact: Artifact, *, actor: str, now: datetime) -> int:
    """Make the artifact's manifest pullable in the target registry with everything that belongs to
    it: an index's children, the referrers of each (signatures, SBOMs, attestations, recursively), and
    cosign's ``sha256-<hex>.sig/.att/.sbom`` and the referrers-fallback tags. Pointers only: no blob
    is copied. Returns how many manifests were added."""
    package = artifact.package
    pending: list[Digest] = [artifact.digest]
    seen: set[Digest] = set()
    added = 0
    while pending:
        current = pending.pop()
        if current in seen or not s.repositories.has_manifest(source, package, current):
            continue
        seen.add(current)
        added += s.repositories.add_manifest(target, package, current, now=now)
        manifest = s.manifests.get(current)
        if manifest is not None:
            pending += [child.digest for child in manifest.manifests]
        pending += [m.digest for m in s.repositories.referrers(source, package, current)]
        for name in attached_tags(current):
            tagged = s.repositories.tag(source, package, name)
            if tagged is not None:
                s.repositories.set_tag(target, package, name, tagged, actor=actor, now=now)
                pending.append(tagged)
    return added
