"""Vulnerability advisories (OSV records) as Hoist keeps them. Parsing OSV and deciding whether a
version falls in an affected range is the ``hoist.vulns`` adapter's job (univers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from hoist.domain.errors import InvalidInput


class Severity(IntEnum):
    """Ordered, so that a gate can say "nothing above HIGH"."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4
    UNKNOWN = 5  # no severity given: treated as the worst by gates, shown as unknown

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise InvalidInput(f"unknown severity {text!r}: use one of {names}") from None

    @classmethod
    def of_score(cls, score: float) -> Severity:
        """CVSS v3/v4 qualitative rating."""
        if score == 0:
            return cls.NONE
        if score < 4.0:
            return cls.LOW
        if score < 7.0:
            return cls.MEDIUM
        if score < 9.0:
            return cls.HIGH
        return cls.CRITICAL


@dataclass(frozen=True, slots=True)
class Affected:
    """One ``affected[]`` entry of an OSV record: a package and the versions it names."""

    ecosystem: str  # OSV ecosystem, e.g. "PyPI", "npm", "Maven", "Debian:12"
    name: str
    purl: str | None
    ranges: tuple[dict[str, Any], ...]  # OSV ranges, as given (type + events)
    versions: tuple[str, ...]  # explicit affected versions


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity
    score: float | None
    modified: datetime
    affected: tuple[Affected, ...]
    raw: bytes  # the OSV JSON as imported
