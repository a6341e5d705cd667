"""``npm audit``'s bulk advisory answer (``{name: [{id, url, title, severity, vulnerable_versions,
cwe, cvss}]}``) rendered from the OSV advisories Hoist holds. npm decides which installed versions
are vulnerable itself, from ``vulnerable_versions`` (a node-semver range) and the packument."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable
from typing import Any

from hoist.domain.advisories import Advisory, Affected, Severity
from hoist.domain.errors import InvalidInput, TooLarge
from hoist.domain.jsonlimits import ADVISORY_BYTES, MIB, read_json
from hoist.domain.names import clip

MAX_REQUEST_BYTES = 16 * MIB  # a lockfile of ~100k packages; also the cap once un-gzipped
_SEVERITY = {
    Severity.NONE: "info",
    Severity.LOW: "low",
    Severity.MEDIUM: "moderate",
    Severity.HIGH: "high",
    Severity.CRITICAL: "critical",
    Severity.UNKNOWN: "critical",  # as the promotion gate reads it: unknown counts as the worst
}
_RANGE_TYPES = {"SEMVER", "ECOSYSTEM"}


def read_request(body: bytes, encoding: str | None) -> dict[str, list[str]]:
    """The ``{name: [versions]}`` npm sends (gzipped when it says so, which npm 11 does)."""
    if (encoding or "").strip().lower() == "gzip" or body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as unzipped:
                body = unzipped.read(MAX_REQUEST_BYTES + 1)
        except (OSError, EOFError, zlib.error):
            raise InvalidInput("the audit request says gzip but is not gzip data") from None
        if len(body) > MAX_REQUEST_BYTES:
            raise TooLarge(f"the audit request unpacks to more than {MAX_REQUEST_BYTES} bytes", limit=MAX_REQUEST_BYTES)
    doc = read_json(body, limit=MAX_REQUEST_BYTES, where="the audit request")
    if not isinstance(doc, dict):
        raise InvalidInput("the audit request is not a JSON object of package name -> versions")
    asked: dict[str, list[str]] = {}
    for name, versions in doc.items():
        if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
            raise InvalidInput(f"the audit request lists {clip(name)!r} without a list of version strings")
        asked[name] = versions
    return asked


def bulk(matches: Iterable[tuple[str, Advisory, Affected]]) -> dict[str, list[dict[str, Any]]]:
    """npm's bulk shape for (package name, advisory, the advisory's entry naming that package)."""
    answer: dict[str, list[dict[str, Any]]] = {}
    for name, advisory, affected in matches:
        answer.setdefault(name, []).append(entry(advisory, affected))
    return answer


def entry(advisory: Advisory, affected: Affected) -> dict[str, Any]:
    raw = _raw(advisory)
    specific = raw.get("database_specific")
    cwe = specific.get("cwe_ids") if isinstance(specific, dict) else None
    return {
        "id": advisory.id,
        "url": f"https://osv.dev/vulnerability/{advisory.id}",
        "title": advisory.summary or advisory.id,
        "severity": _SEVERITY[advisory.severity],
        "vulnerable_versions": vulnerable_versions(affected),
        "cwe": [c for c in cwe if isinstance(c, str)] if isinstance(cwe, list) else [],
        "cvss": {"score": advisory.score or 0, "vectorString": _vector(raw)},
    }


def vulnerable_versions(affected: Affected) -> str:
    """An OSV entry's versions and SEMVER/ECOSYSTEM ranges as one node-semver range."""
    parts = list(dict.fromkeys(affected.versions))
    for range_ in affected.ranges:
        if str(range_.get("type", "")).upper() in _RANGE_TYPES:
            parts.extend(_intervals(range_.get("events") or []))
    return " || ".join(parts) if parts else "*"


def _intervals(events: list[Any]) -> list[str]:
    intervals: list[str] = []
    start: str | None = None
    for event in events:
        if not isinstance(event, dict):
            continue
        if "introduced" in event:
            start = str(event["introduced"])
        elif start is not None and ("fixed" in event or "last_affected" in event):
            upper = f"<{event['fixed']}" if "fixed" in event else f"<={event['last_affected']}"
            intervals.append(upper if start == "0" else f">={start} {upper}")
            start = None
    if start is not None:
        intervals.append("*" if start == "0" else f">={start}")
    return intervals


def _raw(advisory: Advisory) -> dict[str, Any]:
    try:
        doc = read_json(advisory.raw, limit=ADVISORY_BYTES, where=advisory.id)
    except (InvalidInput, TooLarge):
        return {}
    return doc if isinstance(doc, dict) else {}


def _vector(raw: dict[str, Any]) -> str | None:
    severities = raw.get("severity")
    if not isinstance(severities, list):
        return None
    vectors = {s.get("type"): s.get("score") for s in severities if isinstance(s, dict)}
    for kind in ("CVSS_V3", "CVSS_V4", "CVSS_V2"):
        if isinstance(vectors.get(kind), str):
            return str(vectors[kind])
    return None
