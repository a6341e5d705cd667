"""``KeyringVerifier``: the signature verifier port, over the public keys named in configuration."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput
from hoist.domain.manifests import Manifest
from hoist.domain.ports import OpenedStatement, SignatureCheck
from hoist.signing import cosign, dsse
from hoist.signing.keys import key_id, load_public

MAX_SIGNATURE_BLOB = 1024 * 1024


class KeyringVerifier:
    def __init__(self, keys: Mapping[str, ec.EllipticCurvePublicKey]) -> None:
        self._keys = dict(keys)
        self.key_ids = {name: key_id(public) for name, public in self._keys.items()}

    @classmethod
    def from_files(cls, files: Mapping[str, Path]) -> KeyringVerifier:
        keys = {}
        for name, path in files.items():
            try:
                keys[name] = load_public(path.read_bytes())
            except (OSError, InvalidInput) as exc:
                raise InvalidInput(f"key {name} ({path}): {exc}") from None
        return cls(keys)

    def check(self, manifest: Manifest, read: Callable[[Digest], bytes]) -> list[SignatureCheck]:
        if not _may_carry_signatures(manifest):
            return []
        document = json.loads(manifest.raw)
        found = cosign.check_manifest(document, lambda d: read(Digest.parse(d))[:MAX_SIGNATURE_BLOB], self._keys)
        return [
            SignatureCheck(
                subject=Digest.parse(c.subject) if c.subject else None,
                format=c.format,
                key=c.key,
                fingerprint=hashlib.sha256(c.source.encode()).hexdigest(),
                reason=c.reason,
                predicate_type=c.predicate_type,
                builder=c.builder,
            )
            for c in found
        ]

    def open(self, envelope: bytes) -> OpenedStatement:
        opened = dsse.open_envelope(envelope, self._keys)
        return OpenedStatement(
            key=opened.key,
            subjects=tuple(opened.subjects) if opened.statement else (),
            predicate_type=opened.predicate_type,
            predicate=dict(opened.predicate),
            problem=opened.problem,
        )


def _may_carry_signatures(manifest: Manifest) -> bool:
    return any(
        layer.media_type in {cosign.SIMPLE_SIGNING, cosign.DSSE_LAYER}
        or layer.media_type.startswith("application/vnd.dev.sigstore.bundle")
        for layer in manifest.layers
    )
