"""CVSS v3.0/v3.1 base scores, computed from the vector (CVSS v3.1 specification, section 7.1).

Only the eight base metrics are scored; temporal and environmental metrics in the vector are
checked for well-formedness and otherwise ignored, as NVD and GHSA do for the published score.
Both 3.0 and 3.1 vectors use 3.1's ``Roundup``, which fixes 3.0's floating-point off-by-0.1 cases.
"""

from __future__ import annotations

import math
from typing import Final

from hoist.domain.errors import InvalidInput

_EXAMPLE: Final = "e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

_AV: Final = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC: Final = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED: Final = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED: Final = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI: Final = {"N": 0.85, "R": 0.62}
_CIA: Final = {"H": 0.56, "L": 0.22, "N": 0.0}
_SCOPE: Final = ("U", "C")

_BASE: Final[dict[str, tuple[str, ...]]] = {
    "AV": tuple(_AV),
    "AC": tuple(_AC),
    "PR": tuple(_PR_UNCHANGED),
    "UI": tuple(_UI),
    "S": _SCOPE,
    "C": tuple(_CIA),
    "I": tuple(_CIA),
    "A": tuple(_CIA),
}
_OPTIONAL: Final[dict[str, tuple[str, ...]]] = {
    "E": ("X", "H", "F", "P", "U"),
    "RL": ("X", "U", "W", "T", "O"),
    "RC": ("X", "C", "R", "U"),
    "CR": ("X", "H", "M", "L"),
    "IR": ("X", "H", "M", "L"),
    "AR": ("X", "H", "M", "L"),
    "MAV": ("X", "N", "A", "L", "P"),
    "MAC": ("X", "L", "H"),
    "MPR": ("X", "N", "L", "H"),
    "MUI": ("X", "N", "R"),
    "MS": ("X", "U", "C"),
    "MC": ("X", "H", "L", "N"),
    "MI": ("X", "H", "L", "N"),
    "MA": ("X", "H", "L", "N"),
}


def roundup(value: float) -> float:
    """CVSS v3.1 Appendix A: the smallest number with one decimal that is >= value."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0


def parse_vector(vector: str) -> dict[str, str]:
    """``CVSS:3.x/AV:N/...`` as ``{"AV": "N", ...}``; raises InvalidInput saying what is wrong."""
    text = vector.strip()
    prefix, _, rest = text.partition("/")
    if prefix not in ("CVSS:3.0", "CVSS:3.1"):
        raise InvalidInput(f"CVSS vector {vector!r} does not start with CVSS:3.0/ or CVSS:3.1/ ({_EXAMPLE})")
    metrics: dict[str, str] = {}
    for part in rest.split("/"):
        name, colon, value = part.partition(":")
        allowed = _BASE.get(name) or _OPTIONAL.get(name)
        if not colon or allowed is None:
            raise InvalidInput(f"CVSS vector {vector!r}: unknown metric {part!r} ({_EXAMPLE})")
        if value not in allowed:
            raise InvalidInput(f"CVSS vector {vector!r}: {name} must be one of {'/'.join(allowed)}, not {value!r}")
        if name in metrics:
            raise InvalidInput(f"CVSS vector {vector!r}: metric {name} is given twice")
        metrics[name] = value
    missing = [name for name in _BASE if name not in metrics]
    if missing:
        raise InvalidInput(f"CVSS vector {vector!r} lacks base metric(s) {', '.join(missing)} ({_EXAMPLE})")
    return metrics


def cvss3_base_score(vector: str) -> float:
    """The CVSS v3.x base score (0.0 to 10.0) of a vector such as
    ``CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H`` (10.0)."""
    m = parse_vector(vector)
    changed = m["S"] == "C"
    iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    privileges = (_PR_CHANGED if changed else _PR_UNCHANGED)[m["PR"]]
    exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * privileges * _UI[m["UI"]]
    if impact <= 0:
        return 0.0
    if changed:
        return roundup(min(1.08 * (impact + exploitability), 10.0))
    return roundup(min(impact + exploitability, 10.0))
