"""Signed statements the server attaches to artifacts: an in-toto Statement v1 in a DSSE envelope
signed with the server's key, stored as an OCI referrer of the artifact (so it travels with every
promotion and anyone can verify it offline) and recorded as an attachment."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hoist.domain import attestations as a
from hoist.domain.digests import Digest
from hoist.domain.errors import IntegrityFailure
from hoist.domain.manifests import EMPTY_BLOB, EMPTY_DIGEST, EMPTY_MEDIA_TYPE, OCI_MANIFEST, parse_manifest
from hoist.domain.models import Artifact
from hoist.domain.ports import BlobStore, MetadataSession, Signer


@dataclass(frozen=True, slots=True)
class Attached:
    manifest: Digest
    envelope: Digest

    def as_details(self) -> dict[str, str]:
        return {"manifest": str(self.manifest), "envelope": str(self.envelope)}


def rfc3339(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SignedStatements:
    def __init__(self, signer: Signer, blobs: BlobStore) -> None:
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
        subject = s.manifests.get(artifact.digest)
        if subject is None:
            raise IntegrityFailure(f"the manifest of {artifact.ref} is missing")
        layer = self.store(envelope)
        self.store(EMPTY_BLOB)
        manifest = parse_manifest(
            _compact(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "artifactType": a.IN_TOTO,
                    "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": str(EMPTY_DIGEST), "size": len(EMPTY_BLOB)},
                    "layers": [
                        {
                            "mediaType": a.DSSE_LAYER,
                            "digest": str(layer),
                            "size": len(envelope),
                            "annotations": {"predicateType": predicate_type},
                        }
                    ],
                    "subject": {"mediaType": subject.media_type, "digest": str(artifact.digest), "size": len(subject.raw)},
                    "annotations": {
                        "dev.hoist.predicateType": predicate_type,
                        "org.opencontainers.image.created": rfc3339(now),
                    },
                }
            )
        )
        s.manifests.add(manifest, now=now)
        for registry in sorted(set(registries)):
            s.repositories.add_manifest(registry, artifact.package, manifest.digest, now=now)
        return Attached(manifest.digest, layer)

    def store(self, data: bytes) -> Digest:
        return put_bytes(self._blobs, data)


def put_bytes(blobs: BlobStore, data: bytes) -> Digest:
    """Small bytes the server makes itself (envelopes, SBOMs) into the blob store; returns their digest."""
    digest = Digest.of(data)
    writer = blobs.writer()
    writer.write(data)
    writer.commit(digest)
    return digest


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
