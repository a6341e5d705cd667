"""Versions compared the way each ecosystem orders them.

univers supplies one version class per ecosystem; this module picks the class for a purl type
(or ``"semver"`` for OSV ``SEMVER`` ranges), parses with it, and caches the result, because the
same few thousand version strings are compared over and over when many components are matched.

Comparisons use only ``<`` and ``>`` of the univers objects: some classes (Alpine/Gentoo) define
those two correctly but inherit a ``<=``/``>=`` that compares the raw strings.

Types without a univers class use :class:`GenericKey`, a libversion-like ordering (numbers
numerically, ``alpha``/``beta``/``rc`` before the release, ``post``/``patch`` after it).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

from univers import versions as uv

# The univers class for each purl type (and for OSV's SEMVER range type).
_CLASS_BY_SCHEME: Final[dict[str, type[uv.Version]]] = {
    "pypi": uv.PypiVersion,
    "maven": uv.MavenVersion,
    "npm": uv.SemverVersion,
    "semver": uv.SemverVersion,
    "deb": uv.DebianVersion,
    "apk": uv.AlpineLinuxVersion,
    "golang": uv.GolangVersion,
    "cargo": uv.SemverVersion,
    "hex": uv.SemverVersion,
    "pub": uv.SemverVersion,
    "gem": uv.RubygemsVersion,
    "nuget": uv.NugetVersion,
    "composer": uv.ComposerVersion,
    "rpm": uv.RpmVersion,
}

GENERIC: Final = "generic"

_CACHE_SIZE: Final = 1 << 16

_PRE_RELEASE, _ZERO, _POST_RELEASE, _NUMBER = 0, 1, 2, 3
_POST_WORDS: Final = frozenset({"post", "patch", "pl", "errata", "p"})
_TOKEN = re.compile(r"\d+|[a-z]+")


def scheme_for(purl_type: str | None) -> str:
    """The comparison scheme for a purl type: the type itself if univers orders it, else generic."""
    if purl_type is None:
        return GENERIC
    lowered = purl_type.lower()
    return lowered if lowered in _CLASS_BY_SCHEME else GENERIC


@functools.total_ordering
class GenericKey:
    """A best-effort order for versions of unknown ecosystems: ``1.0-rc1 < 1.0 == 1.0.0 < 1.0.post1 < 1.0.1``."""

    __slots__ = ("_parts",)

    def __init__(self, text: str) -> None:
        parts: list[tuple[int, int | str]] = []
        for token in _TOKEN.findall(text.lower().removeprefix("v")):
            if token.isdigit():
                number = int(token)
                parts.append((_NUMBER, number) if number else (_ZERO, 0))
            else:
                parts.append((_POST_RELEASE if token in _POST_WORDS else _PRE_RELEASE, token))
        while parts and parts[-1] == (_ZERO, 0):  # 1.0.0 == 1.0 == 1
            parts.pop()
        self._parts = tuple(parts)

    def _padded(self, other: GenericKey) -> tuple[tuple[tuple[int, int | str], ...], tuple[tuple[int, int | str], ...]]:
        width = max(len(self._parts), len(other._parts))
        pad: tuple[int, int | str] = (_ZERO, 0)
        return (
            self._parts + (pad,) * (width - len(self._parts)),
            other._parts + (pad,) * (width - len(other._parts)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GenericKey):
            return NotImplemented
        return self._parts == other._parts

    def __hash__(self) -> int:
        return hash(self._parts)

    def __lt__(self, other: GenericKey) -> bool:
        mine, theirs = self._padded(other)
        return mine < theirs

    def __repr__(self) -> str:
        return f"GenericKey({self._parts!r})"


@functools.total_ordering
class ParsedVersion:
    """A version parsed for one scheme; ordered with that scheme's ``<`` and ``>`` only."""

    __slots__ = ("scheme", "text", "value")

    def __init__(self, scheme: str, text: str, value: Any) -> None:
        self.scheme = scheme
        self.text = text
        self.value = value  # a univers Version or a GenericKey

    def __lt__(self, other: ParsedVersion) -> bool:
        return bool(self.value < other.value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParsedVersion):
            return NotImplemented
        return not bool(self.value < other.value) and not bool(self.value > other.value)

    def __hash__(self) -> int:
        # equal versions can be spelled differently ("1.0" == "1.0.0" in PyPI): only the scheme is shared
        return hash(self.scheme)

    def __repr__(self) -> str:
        return f"ParsedVersion({self.scheme!r}, {self.text!r})"


@functools.lru_cache(maxsize=_CACHE_SIZE)
def parse_version(scheme: str, text: str) -> ParsedVersion | None:
    """``text`` parsed with the scheme's class, or None if that ecosystem cannot read it."""
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        return None
    cls = _CLASS_BY_SCHEME.get(scheme)
    if cls is None:
        key = GenericKey(text)
        return ParsedVersion(scheme, text, key)
    try:
        value = cls(text)
    except Exception:  # univers raises ValueError, AttributeError or its own Exception subclasses
        return None
    return ParsedVersion(scheme, text, value)


def compare(a: ParsedVersion, b: ParsedVersion) -> int:
    """-1, 0 or 1."""
    if a < b:
        return -1
    if b < a:
        return 1
    return 0
