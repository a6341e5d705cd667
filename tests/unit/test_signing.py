"""Signatures as cosign writes and reads them, checked against the golden vectors of
shared/reference/SUPPLY_CHAIN.md (§1.1, §1.2): a fixed test key, exact payload bytes, real signatures."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hoist.domain.errors import InvalidInput
from hoist.signing import cosign
from hoist.signing import keys as k

EXAMPLE_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEar3mD9yjrqJvWxFDGrmd4Ap3t46Y
4Ca/vK0GGMMxPiXSpeJFU6R3dzOQnTnb99yszirFHV2jDjX2ZGx3XmPUog==
-----END PUBLIC KEY-----
"""
SUBJECT = "sha256:40b99357104105f1db083fcbe713ffecb8aca6b447755389c7d0cf6605722929"
LEGACY_SIGNATURE = "MEUCIH48OsDUVmnU8wDXjyYX2FyPMFS9jqbethtHpwbzm1/7AiEAnec2WUjHkwoKo4uJqVvufdz6EFGPZo94RbgJaW3+Djc="
BUNDLE_PAYLOAD = (
    "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJkaWdlc3QiOnsic2hhMjU2IjoiNDBiOTkzNTcxMDQx"
    "MDVmMWRiMDgzZmNiZTcxM2ZmZWNiOGFjYTZiNDQ3NzU1Mzg5YzdkMGNmNjYwNTcyMjkyOSJ9fV0sInByZWRpY2F0ZVR5cGUiOiJodHRwczovL3NpZ3N0"
    "b3JlLmRldi9jb3NpZ24vc2lnbi92MSIsInByZWRpY2F0ZSI6e319"
)
BUNDLE_SIGNATURE = "MEQCIEmvt7rJ030kQXk+WudQKMU7uqMoEtUh7W6T5AAUQ1GXAiBM/+qfTnepPxA5HFvHAPb68s0Nde2Mqejw4NvzO5hmkQ=="


def example_private() -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(hashlib.sha256(b"example-key").digest(), "big") % 2**255
    return ec.derive_private_key(scalar, ec.SECP256R1())


def test_the_example_key_and_its_cosign_hint() -> None:
    public = k.load_public(EXAMPLE_PUBLIC)
    assert k.public_pem(example_private()) == EXAMPLE_PUBLIC
    assert k.key_id(public) == "XxD6v2cnnQ89c2xtjhnXOCbPh7hE588eBQeSx8n8Wec="


def test_simple_signing_payload_is_byte_exact() -> None:
    payload = cosign.simple_signing_payload("registry.example.com/team/myapp", SUBJECT)
    assert payload == (
        b'{"critical":{"identity":{"docker-reference":"registry.example.com/team/myapp"},"image":'
        b'{"docker-manifest-digest":"' + SUBJECT.encode() + b'"},"type":"cosign container image signature"},'
        b'"optional":null}'
    )
    assert (len(payload), "sha256:" + hashlib.sha256(payload).hexdigest()) == (
        247,
        "sha256:08c06013074b4ddf21af0674055ee48a7f03a2b0f52077ecd6c0b162f5983a2a",
    )


def test_the_golden_legacy_signature_verifies_and_a_tampered_one_does_not() -> None:
    payload = cosign.simple_signing_payload("registry.example.com/team/myapp", SUBJECT)
    layer = {
        "mediaType": cosign.SIMPLE_SIGNING,
        "digest": "sha256:" + hashlib.sha256(payload).hexdigest(),
        "size": len(payload),
        "annotations": {cosign.SIGNATURE_ANNOTATION: LEGACY_SIGNATURE},
    }
    keyring = {"example": k.load_public(EXAMPLE_PUBLIC)}
    (check,) = cosign.check_manifest({"layers": [layer]}, lambda _d: payload, keyring)
    assert (check.ok, check.key, check.subject, check.format) == (True, "example", SUBJECT, "cosign-simple-signing")
    forged = payload.replace(b"40b9", b"40b8")
    (bad,) = cosign.check_manifest({"layers": [layer]}, lambda _d: forged, keyring)
    assert not bad.ok and "no trusted key" in (bad.reason or "")
    (unknown,) = cosign.check_manifest({"layers": [layer]}, lambda _d: payload, {"other": k.generate().public_key()})
    assert not unknown.ok


def test_the_golden_bundle_verifies() -> None:
    bundle = json.dumps(
        {
            "mediaType": cosign.BUNDLE_V03,
            "verificationMaterial": {
                "publicKey": {"hint": "XxD6v2cnnQ89c2xtjhnXOCbPh7hE588eBQeSx8n8Wec="},
                "tlogEntries": [],
            },
            "dsseEnvelope": {
                "payload": BUNDLE_PAYLOAD,
                "payloadType": cosign.IN_TOTO,
                "signatures": [{"sig": BUNDLE_SIGNATURE}],
            },
        },
        separators=(",", ":"),
    ).encode()
    manifest = {
        "layers": [{"mediaType": cosign.BUNDLE_V03, "digest": "x", "size": len(bundle)}],
        "subject": {"digest": SUBJECT},
    }
    (check,) = cosign.check_manifest(manifest, lambda _d: bundle, {"example": k.load_public(EXAMPLE_PUBLIC)})
    assert (check.ok, check.subject, check.predicate_type) == (True, SUBJECT, cosign.COSIGN_SIGN_PREDICATE)
    wrong_subject = {**manifest, "subject": {"digest": "sha256:" + "0" * 64}}
    (misattached,) = cosign.check_manifest(wrong_subject, lambda _d: bundle, {"example": k.load_public(EXAMPLE_PUBLIC)})
    assert not misattached.ok and "does not name" in (misattached.reason or "")


def test_pae_matches_the_dsse_spec() -> None:
    assert cosign.pae("application/vnd.in-toto+json", b'{"a":1}') == b'DSSEv1 28 application/vnd.in-toto+json 7 {"a":1}'


def test_written_signatures_verify_both_ways() -> None:
    key = k.generate()
    keyring = {"release": key.public_key()}
    subject = {"mediaType": cosign.OCI_MANIFEST, "digest": SUBJECT, "size": 509}
    legacy = cosign.legacy_signature(key, "hoist.test/dev/shop/api", SUBJECT)
    assert legacy.tag == f"sha256-{SUBJECT.split(':')[1]}.sig"
    blobs = {b.descriptor["digest"]: b.data for b in legacy.blobs}
    (check,) = cosign.check_manifest(json.loads(legacy.manifest), blobs.__getitem__, keyring)
    assert check.ok and check.subject == SUBJECT
    again = cosign.legacy_signature(k.generate(), "hoist.test/dev/shop/api", SUBJECT, existing=legacy.manifest)
    blobs.update({b.descriptor["digest"]: b.data for b in again.blobs})
    assert [c.ok for c in cosign.check_manifest(json.loads(again.manifest), blobs.__getitem__, keyring)] == [True, False]
    bundle = cosign.bundle_signature(key, subject, created="2026-11-26T00:00:00Z")
    assert bundle.tag is None and json.loads(bundle.manifest)["subject"]["digest"] == SUBJECT
    blobs.update({b.descriptor["digest"]: b.data for b in bundle.blobs})
    (b_check,) = cosign.check_manifest(json.loads(bundle.manifest), blobs.__getitem__, keyring)
    assert b_check.ok and b_check.format == "sigstore-bundle"
    hint = json.loads(bundle.blobs[1].data)["verificationMaterial"]["publicKey"]["hint"]
    assert hint == k.key_id(key.public_key())


def test_private_keys_round_trip_in_every_format() -> None:
    key = k.generate()
    for pem, password in (
        (k.private_pem(key), None),
        (k.private_pem(key, b"pw"), b"pw"),
        (k.cosign_private_pem(key, b"s3cret"), b"s3cret"),
    ):
        loaded = k.load_private(pem, password)
        assert k.public_pem(loaded) == k.public_pem(key)
    cosign_pem = k.cosign_private_pem(key, b"s3cret")
    assert cosign_pem.startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    document = json.loads(base64.b64decode(b"".join(cosign_pem.splitlines()[1:-1])))
    assert document["kdf"]["params"] == {"N": 65536, "r": 8, "p": 1} and document["cipher"]["name"] == "nacl/secretbox"
    with pytest.raises(InvalidInput, match="wrong password"):
        k.load_private(cosign_pem, b"nope")
    with pytest.raises(InvalidInput, match="give its password"):
        k.load_private(cosign_pem)
    with pytest.raises(InvalidInput):
        k.load_private(b"not a key")
    rsa_like = k.private_pem(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(InvalidInput, match="P-256"):
        k.load_private(rsa_like)


def test_bundles_parse_with_the_sigstore_protobuf_models() -> None:
    """An independent reader of the Sigstore bundle format (sigstore-models) accepts what Hoist writes."""
    from sigstore_models.bundle.v1 import Bundle

    key = k.generate()
    subject = {"mediaType": cosign.OCI_MANIFEST, "digest": SUBJECT, "size": 509}
    written = cosign.bundle_signature(key, subject, created="2026-11-26T00:00:00Z").blobs[1].data
    bundle = Bundle.from_json(written)
    assert bundle.media_type == cosign.BUNDLE_V03
    envelope = bundle.dsse_envelope
    assert envelope is not None and envelope.payload_type == cosign.IN_TOTO
    statement = json.loads(envelope.payload)
    assert statement["subject"] == [{"digest": {"sha256": SUBJECT.split(":")[1]}}]
    assert k.verify(key.public_key(), cosign.pae(cosign.IN_TOTO, envelope.payload), envelope.signatures[0].sig)
