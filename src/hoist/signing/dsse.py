"""DSSE envelopes: opened and verified against a keyring (what `hoist verify` and `hoist provenance`
do offline, and what the server does with bundles that arrive)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from hoist.domain.attestations import pae
from hoist.domain.errors import HoistError
from hoist.domain.jsonlimits import STATEMENT_BYTES, read_json
from hoist.signing import keys as k

Keyring = Mapping[str, ec.EllipticCurvePublicKey]


@dataclass(frozen=True, slots=True)
class Opened:
    """An envelope's content and which key of the keyring signed it (None: no key verifies it)."""

    payload_type: str
    payload: bytes
    key: str | None
    statement: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @property
    def subjects(self) -> list[str]:
        return [f"{alg}:{value}" for item in self.statement.get("subject", []) for alg, value in item["digest"].items()]

    @property
    def predicate_type(self) -> str | None:
        value = self.statement.get("predicateType")
        return value if isinstance(value, str) else None

    @property
    def predicate(self) -> dict[str, Any]:
        value = self.statement.get("predicate")
        return value if isinstance(value, dict) else {}


def open_envelope(envelope: Mapping[str, Any] | bytes, keyring: Keyring) -> Opened:
    """Verify the signatures (any one key of the keyring suffices) over DSSE's PAE and parse the
    in-toto statement; ``problem`` says what failed, never an exception for bad content."""
    try:
        document = read_json(envelope, limit=STATEMENT_BYTES) if isinstance(envelope, bytes) else envelope
        payload = base64.b64decode(document["payload"], validate=True)
        payload_type = str(document["payloadType"])
        signatures = [base64.b64decode(s["sig"]) for s in document["signatures"]]
    except (HoistError, ValueError, KeyError, TypeError):
        return Opened("", b"", None, problem="not a DSSE envelope")
    signed = pae(payload_type, payload)
    key = next((name for name, public in keyring.items() for sig in signatures if k.verify(public, signed, sig)), None)
    try:
        statement = read_json(payload, limit=STATEMENT_BYTES)
        if not isinstance(statement, dict) or not isinstance(statement.get("subject"), list):
            raise ValueError
        for item in statement["subject"]:
            dict(item["digest"])
    except (HoistError, ValueError, KeyError, TypeError):
        return Opened(payload_type, payload, key, problem="the envelope does not carry an in-toto statement")
    problem = None if key else "no trusted key verifies this envelope"
    return Opened(payload_type, payload, key, statement, problem)
