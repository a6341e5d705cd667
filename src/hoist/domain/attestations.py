"""in-toto statements in DSSE envelopes, as Hoist issues them (stdlib only: the signing itself is a
port). The VSA Hoist signs at every promotion is SLSA's verification summary
(https://slsa.dev/verification_summary/v1), with Hoist's own account of the decision under
``predicate.hoist``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from enum import Enum
from typing import Any

from hoist.domain.digests import Digest
from hoist.domain.policy import Policy

STATEMENT = "https://in-toto.io/Statement/v1"
IN_TOTO = "application/vnd.in-toto+json"
DSSE_LAYER = "application/vnd.dsse.envelope.v1+json"
VSA = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = "https://hoist.dev/promotion-verifier"


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def statement(name: str, digest: Digest, predicate_type: str, predicate: dict[str, Any]) -> bytes:
    return _compact(
        {
            "_type": STATEMENT,
            "subject": [{"name": name, "digest": {digest.algorithm: digest.hex}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        }
    )


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is signed, never the payload alone."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def envelope(payload: bytes, signature: bytes, *, payload_type: str = IN_TOTO, key_id: str = "") -> bytes:
    return _compact(
        {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": payload_type,
            "signatures": [{"keyid": key_id, "sig": base64.b64encode(signature).decode()}],
        }
    )


def policy_digest(policy: Policy) -> Digest:
    """The policy in force, as a digest: a VSA names the exact rules its decision applied."""
    return Digest.of(_compact(_plain(dataclasses.asdict(policy))))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def verification_summary(
    *,
    resource: str,
    policy: Digest,
    time_verified: str,
    levels: list[str],
    inputs: list[dict[str, Any]],
    decision: dict[str, Any],
    version: str,
) -> dict[str, Any]:
    return {
        "verifier": {"id": VERIFIER_ID, "version": {"hoist": version}},
        "timeVerified": time_verified,
        "resourceUri": resource,
        "policy": {"uri": "hoist:policy", "digest": {policy.algorithm: policy.hex}},
        "inputAttestations": inputs,
        "verificationResult": "PASSED",
        "verifiedLevels": levels,
        "dependencyLevels": {},
        "slsaVersion": "1.0",
        "hoist": decision,
    }


def record_digest(record: dict[str, Any]) -> Digest:
    """A digest for evidence kept as a database record rather than a blob (VSA inputAttestations)."""
    return Digest.of(_compact(record))
