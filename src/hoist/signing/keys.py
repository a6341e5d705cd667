"""ECDSA P-256 keys as cosign reads them.

Private keys are written as PKCS#8 PEM (optionally password-encrypted) or in cosign's
``ENCRYPTED SIGSTORE PRIVATE KEY`` format (scrypt + NaCl secretbox over the PKCS#8 DER), which
skopeo's ``--sign-by-sigstore-private-key`` and ``cosign sign --key`` read. Public keys are PEM
SubjectPublicKeyInfo, which ``cosign verify --key`` reads. A key's id is cosign's hint:
base64(sha256(DER SubjectPublicKeyInfo)).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from hoist.domain.errors import InvalidInput

COSIGN_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY"
LEGACY_COSIGN_PEM = "ENCRYPTED COSIGN PRIVATE KEY"
_SCRYPT = {"N": 65536, "r": 8, "p": 1}
_ACCEPTED_SCRYPT = {(32768, 8, 1), (65536, 8, 1), (131072, 8, 1)}  # what cosign's Go code accepts
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.S)


def generate() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: PrivateKeyTypes, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def public_pem(key: PrivateKeyTypes | PublicKeyTypes) -> bytes:
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(public: PublicKeyTypes) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def cosign_private_pem(key: PrivateKeyTypes, password: bytes) -> bytes:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    secret = _scrypt(password, salt, _SCRYPT["N"], _SCRYPT["r"], _SCRYPT["p"])
    ciphertext = nacl.secret.SecretBox(secret).encrypt(der, nonce).ciphertext
    document = {
        "kdf": {"name": "scrypt", "params": dict(_SCRYPT), "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    body = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {COSIGN_PEM}-----\n{lines}\n-----END {COSIGN_PEM}-----\n".encode()


def load_private(pem: bytes, password: bytes | None = None) -> ec.EllipticCurvePrivateKey:
    """Any of: PKCS#8 (plain or encrypted), SEC1 ``EC PRIVATE KEY``, cosign's encrypted format."""
    block = _PEM_BLOCK.search(pem)
    if block is None:
        raise InvalidInput("not a PEM private key")
    if block[1].decode() in {COSIGN_PEM, LEGACY_COSIGN_PEM}:
        if not password:
            raise InvalidInput("this cosign key is encrypted: give its password")
        key = serialization.load_der_private_key(_cosign_decrypt(block[2], password), None)
    else:
        try:
            key = serialization.load_pem_private_key(pem, password or None)
        except TypeError as exc:
            raise InvalidInput(f"cannot read the private key: {exc}") from None
        except ValueError:
            raise InvalidInput("cannot read the private key: wrong password or not a key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidInput("only ECDSA P-256 keys are supported (cosign's default)")
    return key


def load_public(pem: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidInput("not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidInput("only ECDSA P-256 public keys are supported (cosign's default)")
    return key


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 over SHA-256, ASN.1 DER (what cosign emits and every Sigstore client verifies)."""
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify(key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    # hashlib's default maxmem (32 MiB) is too small for N = 2^16
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024)


def _cosign_decrypt(body: bytes, password: bytes) -> bytes:
    try:
        document = json.loads(base64.b64decode(b"".join(body.split())))
        params = document["kdf"]["params"]
        triple = (int(params["N"]), int(params["r"]), int(params["p"]))
        if document["kdf"]["name"] != "scrypt" or triple not in _ACCEPTED_SCRYPT:
            raise InvalidInput("unsupported key derivation in the cosign key")
        if document["cipher"]["name"] != "nacl/secretbox":
            raise InvalidInput("unsupported cipher in the cosign key")
        secret = _scrypt(password, base64.b64decode(document["kdf"]["salt"]), *triple)
        return nacl.secret.SecretBox(secret).decrypt(
            base64.b64decode(document["ciphertext"]), base64.b64decode(document["cipher"]["nonce"])
        )
    except nacl.exceptions.CryptoError:
        raise InvalidInput("cannot decrypt the cosign key: wrong password") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"not a cosign private key: {exc}") from None
