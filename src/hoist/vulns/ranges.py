"""Version ranges: OSV ``ranges[]`` evaluated with the OSV algorithm, and the CLI's ``--range``.

OSV ranges (https://ossf.github.io/osv-schema/#evaluation) are evaluated one range at a time:
events sorted by version (``introduced: "0"`` first), ``introduced`` opens, ``fixed`` closes
(exclusive), ``last_affected`` closes (inclusive), ``limit`` bounds the whole range (``"*"`` is
infinity). univers is used only to compare versions, never for its ``vers`` interval semantics.

``ECOSYSTEM`` ranges use the ecosystem's ordering, ``SEMVER`` ranges SemVer 2.0. ``GIT`` ranges are
commit hashes: deciding them needs the repository's commit graph, so they are ignored here (OSV
records that use them normally also enumerate ``versions[]``, which is matched).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from hoist.domain.errors import InvalidInput
from hoist.vulns.versions import GENERIC, ParsedVersion, compare, parse_version, scheme_for

_CACHE_SIZE: Final = 1 << 14

EVENT_KINDS: Final = ("introduced", "fixed", "last_affected", "limit")
MATCHED_RANGE_TYPES: Final = frozenset({"ECOSYSTEM", "SEMVER"})

_EXAMPLES: Final = "e.g. '<2.17.1', '>=2.0.0,<2.17.1', '>=2.0.0 <2.17.1' or 'vers:maven/>=2.0.0|<2.17.1'"


# --- OSV ranges -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CompiledRange:
    limits: tuple[ParsedVersion | None, ...]  # None: "*"
    events: tuple[tuple[str, ParsedVersion | None], ...]  # sorted; None: introduced "0"


def range_scheme(range_type: str, purl_type: str | None) -> str | None:
    """The comparison scheme for an OSV range type, or None if the range cannot be matched by version."""
    kind = range_type.upper()
    if kind == "SEMVER":
        return "semver"
    if kind == "ECOSYSTEM":
        return scheme_for(purl_type)
    return None


def osv_events(range_: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """The events of one OSV range as ``(kind, version)`` pairs, or None if they are malformed."""
    events = range_.get("events")
    if not isinstance(events, list):
        return None
    out: list[tuple[str, str]] = []
    for event in events:
        if not isinstance(event, dict) or len(event) != 1:
            return None
        ((kind, version),) = event.items()
        if kind not in EVENT_KINDS or not isinstance(version, str):
            return None
        out.append((kind, version))
    return tuple(out)


def in_osv_range(version: ParsedVersion, scheme: str, events: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``version`` (parsed with ``scheme``) falls inside the range these events describe."""
    compiled = _compile_osv_range(scheme, events)
    if compiled is None:
        return False
    if compiled.limits and not any(limit is None or version < limit for limit in compiled.limits):
        return False
    vulnerable = False
    for kind, bound in compiled.events:
        if kind == "introduced":
            if bound is None or version >= bound:
                vulnerable = True
        elif bound is not None and ((kind == "fixed" and version >= bound) or (kind == "last_affected" and version > bound)):
            vulnerable = False
    return vulnerable


def fixed_versions(scheme: str, events: tuple[tuple[str, str], ...]) -> tuple[ParsedVersion, ...]:
    """The ``fixed`` versions of a range, parsed and sorted (unparseable ones left out)."""
    parsed = [parse_version(scheme, v) for kind, v in events if kind == "fixed"]
    return tuple(sorted(p for p in parsed if p is not None))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_osv_range(scheme: str, events: tuple[tuple[str, str], ...]) -> _CompiledRange | None:
    """Parse and sort a range's events once; None if a bound is not a version of this scheme (the
    range is then not matched rather than matched wrongly)."""
    limits: list[ParsedVersion | None] = []
    ordered: list[tuple[str, ParsedVersion | None]] = []
    for kind, text in events:
        if kind == "limit":
            if text.strip() == "*":
                limits.append(None)
                continue
            bound = parse_version(scheme, text)
            if bound is None:
                return None
            limits.append(bound)
        elif kind == "introduced" and text.strip() == "0":
            ordered.append((kind, None))
        else:
            bound = parse_version(scheme, text)
            if bound is None:
                return None
            ordered.append((kind, bound))

    def order(item: tuple[str, ParsedVersion | None], other: tuple[str, ParsedVersion | None]) -> int:
        a, b = item[1], other[1]
        if a is None or b is None:
            return (b is None) - (a is None)
        return compare(a, b)

    ordered.sort(key=functools.cmp_to_key(order))
    return _CompiledRange(tuple(limits), tuple(ordered))


# --- the CLI's --range ------------------------------------------------------------------------

_OPERATORS: Final = ("<=", ">=", "!=", "==", "<", ">", "=")
_CONSTRAINT = re.compile(r"^(<=|>=|!=|==|<|>|=)?(.*)$", re.DOTALL)
_VERSION_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+~:_\-]*$")
_SPACE_AFTER_OPERATOR = re.compile(r"(<=|>=|!=|==|<|>|=)\s+")
_SEPARATORS = re.compile(r"[\s,|]+")
_SEMVER_TYPES: Final = frozenset({"npm", "cargo", "golang", "hex", "pub", "composer"})


@dataclass(frozen=True, slots=True)
class Constraint:
    comparator: str  # one of < <= > >= = != or * (any version)
    version: str

    def __str__(self) -> str:
        if self.comparator == "*":
            return "*"
        return self.version if self.comparator == "=" else f"{self.comparator}{self.version}"


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """A version range from the command line.

    ``union`` is False for comma/space-separated constraints (all must hold, as in PEP 440 and
    npm) and True for ``|``-separated ones and ``vers:`` strings, which follow the vers
    specification (constraints sorted by version describe a union of intervals, ``!=`` excludes).
    For well-formed input both readings agree.
    """

    text: str
    constraints: tuple[Constraint, ...]
    purl_type: str | None = None
    union: bool = False

    def contains(self, version: str, purl_type: str | None = None) -> bool:
        """Whether ``version`` is inside the range, compared with the ordering of ``purl_type``
        (the component's type) or else the range's own type, or else a generic ordering.
        A version (or bound) that the chosen ecosystem cannot parse is not contained."""
        scheme = scheme_for(purl_type or self.purl_type)
        parsed = parse_version(scheme, version)
        if parsed is None:
            return False
        bounds = _parsed_constraints(scheme, self.constraints)
        if bounds is None:
            return False
        if self.union:
            return _vers_contains(parsed, bounds)
        return all(_satisfies(parsed, comparator, bound) for comparator, bound in bounds)

    def __str__(self) -> str:
        body = "|".join(str(c) for c in self.constraints) if self.union else ",".join(str(c) for c in self.constraints)
        return f"vers:{self.purl_type}/{body}" if self.union and self.purl_type else body


def parse_range(spec: str, purl_type: str | None = None) -> RangeSpec:
    """Read ``<2.17.1``, ``>=2.0.0,<2.17.1``, ``>=2.0.0 <2.17.1``, ``>=2.0.0|<2.17.1``, ``=1.2.3``,
    ``!=1.2.3`` or a vers string ``vers:maven/>=2.0.0|<2.17.1``.

    With a ``purl_type`` (or a vers type) that univers knows, every bound must be a valid version
    of that ecosystem. Raises InvalidInput naming the bad part."""
    text = spec.strip()
    if not text:
        raise InvalidInput(f"empty version range: give one, {_EXAMPLES}")
    range_type = purl_type.strip().lower() if purl_type and purl_type.strip() else None
    body = text
    union = "|" in text
    if text[:5].lower() == "vers:":
        scheme, slash, body = text[5:].partition("/")
        scheme = scheme.strip().lower()
        if not slash or not scheme or not body.strip():
            raise InvalidInput(
                f"bad vers range {spec!r}: write 'vers:<type>/<constraints>', e.g. 'vers:maven/>=2.0.0|<2.17.1'"
            )
        if range_type and scheme not in (range_type, GENERIC) and not (scheme == "semver" and range_type in _SEMVER_TYPES):
            raise InvalidInput(
                f"version range {spec!r} is for {scheme} versions but the package is {range_type}: "
                f"write 'vers:{range_type}/...' or a plain range, e.g. '>=2.0.0,<2.17.1'"
            )
        range_type = range_type or scheme
        union = True
    body = _SPACE_AFTER_OPERATOR.sub(r"\1", body)
    parts = [part for part in _SEPARATORS.split(body) if part]
    if not parts:
        raise InvalidInput(f"version range {spec!r} has no constraints: {_EXAMPLES}")
    constraints = tuple(_constraint(part, spec, range_type) for part in parts)
    if any(c.comparator == "*" for c in constraints) and len(constraints) > 1:
        raise InvalidInput(f"version range {spec!r}: '*' (any version) must stand alone, e.g. 'vers:npm/*'")
    return RangeSpec(text=text, constraints=constraints, purl_type=range_type, union=union)


def _constraint(part: str, spec: str, purl_type: str | None) -> Constraint:
    if part == "*":
        return Constraint("*", "*")
    match = _CONSTRAINT.match(part)
    assert match is not None  # the pattern matches any string
    operator, version = match.group(1) or "=", match.group(2)
    if operator == "==":
        operator = "="
    if not version:
        raise InvalidInput(
            f"bad constraint {part!r} in version range {spec!r}: {operator!r} needs a version after it, {_EXAMPLES}"
        )
    if version[0] in "^~":
        raise InvalidInput(
            f"bad constraint {part!r} in version range {spec!r}: npm's '^' and '~' are not supported; "
            f"write the bounds out, {_EXAMPLES}"
        )
    if not _VERSION_TEXT.match(version):
        raise InvalidInput(
            f"bad constraint {part!r} in version range {spec!r}: expected an operator (<, <=, >, >=, =, !=) "
            f"followed by a version, {_EXAMPLES}"
        )
    scheme = scheme_for(purl_type)
    if scheme != GENERIC and parse_version(scheme, version) is None:
        raise InvalidInput(f"{version!r} in version range {spec!r} is not a valid {purl_type} version, {_EXAMPLES}")
    return Constraint(operator, version)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parsed_constraints(
    scheme: str, constraints: tuple[Constraint, ...]
) -> tuple[tuple[str, ParsedVersion | None], ...] | None:
    out: list[tuple[str, ParsedVersion | None]] = []
    for constraint in constraints:
        if constraint.comparator == "*":
            out.append(("*", None))
            continue
        bound = parse_version(scheme, constraint.version)
        if bound is None:
            return None
        out.append((constraint.comparator, bound))
    return tuple(out)


def _satisfies(version: ParsedVersion, comparator: str, bound: ParsedVersion | None) -> bool:
    if bound is None:  # "*"
        return True
    order = compare(version, bound)
    return {
        "<": order < 0,
        "<=": order <= 0,
        ">": order > 0,
        ">=": order >= 0,
        "=": order == 0,
        "!=": order != 0,
    }[comparator]


def _vers_contains(version: ParsedVersion, bounds: Iterable[tuple[str, ParsedVersion | None]]) -> bool:
    """The vers containment algorithm (https://github.com/package-url/vers-spec)."""
    items = list(bounds)
    if any(comparator == "*" for comparator, _ in items):
        return True
    equal = [comparator for comparator, bound in items if bound is not None and compare(version, bound) == 0]
    if "!=" in equal:
        return False
    if any(comparator in ("=", "<=", ">=") for comparator in equal):
        return True
    intervals: list[tuple[str, ParsedVersion]] = [
        (comparator, bound) for comparator, bound in items if bound is not None and comparator not in ("=", "!=")
    ]
    intervals.sort(key=lambda item: item[1])
    if not intervals:
        # only "=" and "!=" constraints, none equal: "!=" alone means every other version
        return all(comparator == "!=" for comparator, _ in items)
    (first_comparator, first_bound), (last_comparator, last_bound) = intervals[0], intervals[-1]
    return (
        (first_comparator in ("<", "<=") and version < first_bound)
        or (last_comparator in (">", ">=") and version > last_bound)
        or any(
            low_comparator in (">", ">=") and high_comparator in ("<", "<=") and low < version < high
            for (low_comparator, low), (high_comparator, high) in itertools.pairwise(intervals)
        )
    )
