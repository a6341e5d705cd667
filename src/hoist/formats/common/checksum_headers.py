"""Checksums in HTTP headers: the ones a client declares beside a file's bytes (checked against what
the body hashed to before anything is stored) and the ones a download carries. Checksum *files*
(Maven's ``.sha1`` beside a jar) are another matter.

Clients declare checksums three ways, all read here, each checked against the bytes received:
``X-Checksum-Sha256`` / ``-Sha1`` / ``-Md5`` / ``-Sha512`` (hex; Artifactory's and Nexus's headers,
what curl scripts send), ``Digest: sha-256=<base64>`` (RFC 3230) and ``Content-Digest`` /
``Repr-Digest: sha-256=:<base64>:`` (RFC 9530). An algorithm Hoist does not compute is ignored, as
both RFCs ask; a malformed value for one it does is an error, never silently skipped.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from hoist.domain.errors import DigestMismatch, InvalidInput

ALGORITHMS = ("sha256", "sha1", "md5", "sha512")
HEX_LENGTH = {"sha256": 64, "sha1": 40, "md5": 32, "sha512": 128}
_HEX = re.compile(r"[0-9a-f]+")

# RFC 3230 / RFC 9530 algorithm names (case-insensitive) → hashlib's
_HTTP_NAMES = {"sha-256": "sha256", "sha-512": "sha512", "sha": "sha1", "md5": "md5"}
_CHECKSUM_HEADERS = {f"x-checksum-{a}": a for a in ALGORITHMS}
_DIGEST_HEADERS = ("digest", "content-digest", "repr-digest")


def declared_checksums(headers: Mapping[str, str]) -> dict[str, str]:
    """Every checksum the request declares for its body, by algorithm (hex); InvalidInput when a
    header is malformed or two headers disagree about one algorithm."""
    declared: dict[str, tuple[str, str]] = {}  # algorithm -> (hex, the header that said so)

    def add(algorithm: str, value: str, header: str) -> None:
        seen = declared.get(algorithm)
        if seen is not None and seen[0] != value:
            raise InvalidInput(f"{seen[1]} and {header} declare different {algorithm} checksums")
        declared[algorithm] = (value, header)

    lowered = {k.lower(): v for k, v in headers.items()}
    for header, algorithm in _CHECKSUM_HEADERS.items():
        if header in lowered:
            add(algorithm, _hex(lowered[header].strip().lower(), algorithm, header), _title(header))
    for header in _DIGEST_HEADERS:
        if header in lowered:
            for algorithm, value in _digest_items(lowered[header], header):
                add(algorithm, value, _title(header))
    return {a: v for a, (v, _) in declared.items()}


def check_declared(actual: Mapping[str, str], declared: Mapping[str, str]) -> None:
    """DigestMismatch naming the first declared checksum the bytes (``actual``: hex by algorithm,
    every one of ``ALGORITHMS``) do not have."""
    for algorithm, value in declared.items():
        if actual[algorithm] != value:
            raise DigestMismatch(
                f"the body's {algorithm} is {actual[algorithm]}, but the request declared {value}: nothing was stored",
                algorithm=algorithm,
                expected=value,
                actual=actual[algorithm],
            )


def checksum_headers(known: Mapping[str, str]) -> dict[str, str]:
    """What a download carries: ``X-Checksum-*`` and ``Digest`` (RFC 3230) for every checksum
    known (hex by algorithm; files stored before checksums were recorded have their sha256 only)."""
    known = {a: known[a] for a in ALGORITHMS if a in known}
    headers = {f"X-Checksum-{a.capitalize()}": v for a, v in known.items()}
    names = {v: k for k, v in _HTTP_NAMES.items()}
    headers["Digest"] = ",".join(
        f"{names[a]}={base64.b64encode(bytes.fromhex(v)).decode()}" for a, v in known.items() if a in names
    )
    return headers


def _digest_items(value: str, header: str) -> list[tuple[str, str]]:
    """``alg=<b64>`` (RFC 3230) or ``alg=:<b64>:`` (RFC 9530) items of a digest header, for the
    algorithms Hoist computes."""
    found = []
    for item in value.split(","):
        name, sep, encoded = item.strip().partition("=")
        algorithm = _HTTP_NAMES.get(name.strip().lower())
        if not sep or algorithm is None:
            continue
        encoded = encoded.strip()
        if encoded.startswith(":") and encoded.endswith(":") and len(encoded) > 1:
            encoded = encoded[1:-1]
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"{_title(header)}: the {name.strip()[:20]} value is not base64") from None
        found.append((algorithm, _hex(raw.hex(), algorithm, header)))
    return found


def _hex(value: str, algorithm: str, header: str) -> str:
    if len(value) != HEX_LENGTH[algorithm] or not _HEX.fullmatch(value):
        raise InvalidInput(
            f"{_title(header)} is not a {algorithm} checksum: expected {HEX_LENGTH[algorithm]} hex digits "
            f"({HEX_LENGTH[algorithm] // 2} bytes)"
        )
    return value


def _title(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-"))
