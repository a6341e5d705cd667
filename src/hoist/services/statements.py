"""Signed statements the server attaches to artifacts: an in-toto Statement v1 in a DSSE envelope
signed with the server's key, stored as an OCI referrer of the artifact (so it travels with every
promotion and anyone can verify it offline) and recorded as an attachment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hoist.domain import attestations as a
from hoist.domain.digests import Digest
from hoist.domain.errors import IntegrityFailure
from hoist.domain.manifests import EMPTY_BLOB, Descriptor, parse_manifest, referrer_manifest
from hoist.domain.models import Artifact
from hoist.domain.ports import MetadataSession, Signer
from hoist.services.blobs import Blobs


@dataclass(frozen=True, slots=True)
class Attached:
    manifest: Digest
    envelope: Digest

    def as_details(self) -> dict[str, str]:
        return {"manifest": str(self.manifest), "envelope": str(self.envelope)}


def rfc3339(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SignedStatements:
    def __init__(self, signer: Signer, blobs: Blobs) -> None:
        self.signer = signer
        self._blobs = blobs

    def attach(
        self,
        s: MetadataSession,
        artifact: Artifact,
        registries: Iterable[str],
        *,
        predicate_type: str,
        predicate: dict[str, Any],
        now: datetime,
        subject_name: str | None = None,
    ) -> Attached:
        """Sign the statement and place its referrer in each registry given (inside the caller's unit of work)."""
        body = a.statement(subject_name or artifact.package, artifact.digest, predicate_type, predicate)
        envelope = a.envelope(body, self.signer.sign(a.pae(a.IN_TOTO, body)), key_id=self.signer.key_id)
        return self.place(s, artifact, registries, envelope=envelope, predicate_type=predicate_type, now=now)

    def place(
        self,
        s: MetadataSession,
        artifact: Artifact,
        registries: Iterable[str],
        *,
        envelope: bytes,
        predicate_type: str,
        now: datetime,
    ) -> Attached:
        """Store a signed envelope (the server's, or one a client signed) as a referrer of the artifact."""
        layer = Descriptor(a.DSSE_LAYER, self._blobs.put(envelope, s), len(envelope), {"predicateType": predicate_type})
        annotations = {"dev.hoist.predicateType": predicate_type, "org.opencontainers.image.created": rfc3339(now)}
        manifest = place_referrer(s, self._blobs, artifact, registries, a.IN_TOTO, layer, annotations, now=now)
        return Attached(manifest, layer.digest)


def place_referrer(
    s: MetadataSession,
    blobs: Blobs,
    artifact: Artifact,
    registries: Iterable[str],
    artifact_type: str,
    layer: Descriptor,
    annotations: dict[str, str],
    *,
    now: datetime,
) -> Digest:
    """Store a referrer of ``artifact`` whose layer is already stored, in the package's repository of
    each registry given (inside the caller's unit of work): it travels with every promotion."""
    subject = s.manifests.get(artifact.digest)
    if subject is None:
        raise IntegrityFailure(f"the manifest of {artifact.ref} is missing")
    blobs.put(EMPTY_BLOB, s)
    about = Descriptor(subject.media_type, artifact.digest, len(subject.raw))
    manifest = parse_manifest(referrer_manifest(about, artifact_type, layer, annotations))
    s.manifests.add(manifest, now=now)
    for registry in sorted(set(registries)):
        s.repositories.add_manifest(registry, artifact.package, manifest.digest, now=now)
    return manifest.digest
