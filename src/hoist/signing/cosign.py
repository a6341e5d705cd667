"""cosign's two ways of storing a signature in an OCI registry, written and verified.

1. Legacy tag scheme: tag ``sha256-<hex>.sig`` holds an image manifest whose layers are "simple
   signing" payloads, each signed in the ``dev.cosignproject.cosign/signature`` annotation
   (cosign ``specs/SIGNATURE_SPEC.md``; skopeo's sigstore signing writes the same).
   cosign v2's ``cosign attest`` tags ``sha256-<hex>.att`` the same way, each layer a DSSE envelope
   over an in-toto statement (``specs/ATTESTATION_SPEC.md``).
2. cosign v3: a Sigstore bundle v0.3 (DSSE over an in-toto statement with predicate
   ``https://sigstore.dev/cosign/sign/v1``) uploaded as a blob and referenced by an untagged
   manifest whose ``subject`` is the signed manifest (the OCI 1.1 referrers API).

Both sign the manifest *digest*, and the docker-reference inside a simple-signing payload is not
checked by verifiers: that is why a digest-preserving promotion keeps every signature valid.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from hoist.domain.attestations import PROVENANCE, builder_of, pae
from hoist.domain.errors import HoistError
from hoist.domain.jsonlimits import STATEMENT_BYTES, read_json
from hoist.signing import dsse
from hoist.signing import keys as k

__all__ = ["pae"]

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
IN_TOTO = "application/vnd.in-toto+json"
DSSE_LAYER = "application/vnd.dsse.envelope.v1+json"
STATEMENT = "https://in-toto.io/Statement/v1"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
SIGNATURE_TYPE = "cosign container image signature"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY: dict[str, Any] = {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "size": 2,
}
MAX_PAYLOAD = 1024 * 1024


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- writing ------------------------------------------------------------------------------------


def simple_signing_payload(docker_reference: str, digest: str) -> bytes:
    """Exactly what cosign emits: Go's json.Marshal, compact, ``critical`` then ``optional``."""
    return _compact(
        {
            "critical": {
                "identity": {"docker-reference": docker_reference},
                "image": {"docker-manifest-digest": digest},
                "type": SIGNATURE_TYPE,
            },
            "optional": None,
        }
    )


@dataclass(frozen=True, slots=True)
class Blob:
    media_type: str
    data: bytes

    @property
    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": _digest(self.data), "size": len(self.data)}


@dataclass(frozen=True, slots=True)
class SignatureArtifact:
    """Blobs to upload, then a manifest to put (at ``tag``, or by digest when ``tag`` is None)."""

    blobs: tuple[Blob, ...]
    manifest: bytes
    tag: str | None


def legacy_signature(
    key: ec.EllipticCurvePrivateKey, docker_reference: str, digest: str, existing: bytes | None = None
) -> SignatureArtifact:
    """The ``sha256-<hex>.sig`` manifest with one more signed payload layer (appended to ``existing``)."""
    payload = simple_signing_payload(docker_reference, digest)
    signature = base64.b64encode(k.sign(key, payload)).decode()
    layer = {**Blob(SIMPLE_SIGNING, payload).descriptor, "annotations": {SIGNATURE_ANNOTATION: signature}}
    layers = [item for item in (json.loads(existing)["layers"] if existing else []) if item != layer]
    layers.append(layer)
    config = _compact(
        {
            "architecture": "",
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [item["digest"] for item in layers]},
            "config": {},
        }
    )
    manifest = _compact(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": Blob("application/vnd.oci.image.config.v1+json", config).descriptor,
            "layers": layers,
        }
    )
    algorithm, hexpart = digest.split(":", 1)
    return SignatureArtifact(
        (Blob("application/vnd.oci.image.config.v1+json", config), Blob(SIMPLE_SIGNING, payload)),
        manifest,
        f"{algorithm}-{hexpart}.sig",
    )


def bundle_signature(
    key: ec.EllipticCurvePrivateKey,
    subject: Mapping[str, Any],
    *,
    created: str,
    predicate_type: str = COSIGN_SIGN_PREDICATE,
    predicate: Mapping[str, Any] | None = None,
) -> SignatureArtifact:
    """A Sigstore bundle v0.3 over an in-toto statement about ``subject`` (a descriptor), and the
    untagged referrer manifest that attaches it."""
    algorithm, hexpart = str(subject["digest"]).split(":", 1)
    statement = _compact(
        {
            "_type": STATEMENT,
            "subject": [{"digest": {algorithm: hexpart}}],
            "predicateType": predicate_type,
            "predicate": dict(predicate or {}),
        }
    )
    signature = k.sign(key, pae(IN_TOTO, statement))
    bundle = _compact(
        {
            "mediaType": BUNDLE_V03,
            "verificationMaterial": {"publicKey": {"hint": k.key_id(key.public_key())}, "tlogEntries": []},
            "dsseEnvelope": {
                "payload": base64.b64encode(statement).decode(),
                "payloadType": IN_TOTO,
                "signatures": [{"sig": base64.b64encode(signature).decode()}],
            },
        }
    )
    layer = Blob(BUNDLE_V03, bundle)
    manifest = _compact(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": BUNDLE_V03,
            "config": EMPTY,
            "layers": [layer.descriptor],
            "subject": {"mediaType": subject["mediaType"], "digest": subject["digest"], "size": subject["size"]},
            "annotations": {
                "dev.sigstore.bundle.content": "dsse-envelope",
                "dev.sigstore.bundle.predicateType": predicate_type,
                "org.opencontainers.image.created": created,
            },
        }
    )
    return SignatureArtifact((Blob(EMPTY["mediaType"], b"{}"), layer), manifest, None)


# -- verifying ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One signature found in a manifest: what it signs, and whether a known key verifies it."""

    subject: str | None
    format: str
    key: str | None
    reason: str | None = None
    predicate_type: str | None = None
    source: str = ""  # the signed layer (and its signature): the same signature pushed again is the same
    builder: str | None = None  # a SLSA provenance statement's builder (what trusted_builders weigh with the key)

    @property
    def ok(self) -> bool:
        return self.key is not None


Keyring = dsse.Keyring


def check_manifest(manifest: Mapping[str, Any], read: Callable[[str], bytes], keyring: Keyring) -> list[Check]:
    """Every cosign signature a manifest carries, verified against every key of ``keyring``.
    ``read(digest)`` returns a blob's bytes. Manifests that carry no signature give []."""
    checks: list[Check] = []
    for layer in manifest.get("layers") or []:
        media_type = layer.get("mediaType", "")
        if media_type == SIMPLE_SIGNING and SIGNATURE_ANNOTATION in (layer.get("annotations") or {}):
            signature = layer["annotations"][SIGNATURE_ANNOTATION]
            check = _check_simple(read(layer["digest"]), signature, keyring)
            checks.append(replace(check, source=f"{layer['digest']}:{signature}"))
        elif media_type.startswith("application/vnd.dev.sigstore.bundle"):
            subject = (manifest.get("subject") or {}).get("digest")
            checks.append(replace(_check_bundle(read(layer["digest"]), subject, keyring), source=layer["digest"]))
        elif media_type == DSSE_LAYER:
            subject = (manifest.get("subject") or {}).get("digest")  # none under an .att tag: the statement names it
            check = _check_envelope(read(layer["digest"]), subject, keyring, "cosign-attestation")
            checks.append(replace(check, source=layer["digest"]))
    return checks


def _check_simple(payload: bytes, signature: str, keyring: Keyring) -> Check:
    fmt = "cosign-simple-signing"
    try:
        signed = base64.b64decode(signature, validate=True)
    except ValueError:
        return Check(None, fmt, None, "the signature is not base64")
    key = _verifying_key(keyring, payload, signed)  # verify before parsing what was signed
    try:
        document = read_json(payload, limit=STATEMENT_BYTES)
        subject = document["critical"]["image"]["docker-manifest-digest"]
        kind = document["critical"]["type"]
    except (HoistError, KeyError, TypeError):
        return Check(None, fmt, None, "the payload is not a simple-signing document")
    if kind != SIGNATURE_TYPE:
        return Check(subject, fmt, None, f"unexpected payload type {kind!r}")
    return Check(subject, fmt, key, None if key else "no trusted key verifies this signature")


def _check_bundle(bundle: bytes, subject: str | None, keyring: Keyring) -> Check:
    fmt = "sigstore-bundle"
    try:
        envelope = read_json(bundle, limit=STATEMENT_BYTES)["dsseEnvelope"]
    except (HoistError, KeyError, TypeError):
        return Check(subject, fmt, None, "not a Sigstore bundle with a DSSE envelope")
    return _check_envelope(envelope, subject, keyring, fmt)


def _check_envelope(envelope: Mapping[str, Any] | bytes, subject: str | None, keyring: Keyring, fmt: str) -> Check:
    opened = dsse.open_envelope(envelope, keyring)
    if opened.problem and not opened.payload_type:
        what = "a Sigstore bundle with a DSSE envelope" if fmt == "sigstore-bundle" else "a DSSE envelope"
        return Check(subject, fmt, None, f"not {what}")
    if not opened.statement:
        return Check(subject, fmt, None, "the envelope does not carry an in-toto statement")
    if subject is not None and subject not in opened.subjects:
        return Check(subject, fmt, None, "the statement does not name the manifest it is attached to", opened.predicate_type)
    signed_subject = subject or (opened.subjects[0] if opened.subjects else None)
    key = opened.key
    reason = None if key else "no trusted key verifies this signature"
    builder = builder_of(opened.predicate) if opened.predicate_type == PROVENANCE else None
    return Check(signed_subject, fmt, key, reason, opened.predicate_type, builder=builder)


def _verifying_key(keyring: Keyring, data: bytes, signature: bytes) -> str | None:
    return next((name for name, public in keyring.items() if k.verify(public, data, signature)), None)
