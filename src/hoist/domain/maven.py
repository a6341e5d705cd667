"""Maven versions, ordered as Maven's ComparableVersion orders them.

https://maven.apache.org/pom.html#Version_Order_Specification: the text is split into items at
``.``, at ``-`` and at transitions between digits and letters; a ``-`` or a transition opens a
nested list. Qualifiers order alpha < beta < milestone < rc = cr < snapshot < "" = ga = final =
release < sp < any other word (lexically); ``a1``/``b1``/``m1`` are alpha/beta/milestone when a
number follows. Trailing nulls (0, "", empty lists) are trimmed, so ``1.0`` equals ``1``. Where
the spec page's examples and ComparableVersion disagree, ComparableVersion (what ``mvn`` runs) wins.

The text itself is the identity: Maven versions are case-sensitive path components.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import ClassVar

from hoist.domain.errors import InvalidVersion
from hoist.domain.names import clip
from hoist.domain.versions import Channel, Scheme, Version, bounded_build, version_text

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORTHANDS = {"a": "alpha", "b": "beta", "m": "milestone"}
_RELEASE_RANK = _QUALIFIERS.index("")
_RC_QUALIFIERS = frozenset({"alpha", "beta", "milestone", "rc"})
_FOUR_NUMBERS = re.compile(r"(?P<base>\d+\.\d+\.\d+)\.(?P<build>\d+)")
_THREE_NUMBERS = re.compile(r"\d+\.\d+\.\d+")
# A deployed snapshot file names its version <base>-<yyyyMMdd.HHmmss>-<build number>.
_TIMESTAMPED = re.compile(r"(?P<base>.+)-(?P<stamp>\d{8}\.\d{6})-(?P<build>\d+)")
_KIND: dict[type, int] = {str: 0, list: 1, int: 2}
_REFUSED = re.compile(r"[/\\:@\s\x00-\x1f\x7f]")

# An item is an int, a str (a qualifier, already aliased) or a list of items.
Item = int | str | list["Item"]


@dataclass(frozen=True, slots=True)
class MavenVersion(Version):
    scheme: ClassVar[Scheme] = Scheme.MAVEN

    text: str

    @classmethod
    def parse(cls, text: str) -> MavenVersion:
        text = version_text(text, "1.4.0, 1.4.0-RC1 or 1.4.0-SNAPSHOT")
        if _REFUSED.search(text) or ".." in text:
            raise InvalidVersion(
                f"{clip(text)!r} is not a usable Maven version: it becomes a folder of the repository, so it "
                "may not hold '/', '\\', ':', '@', '..', spaces or control characters",
                version=clip(text),
            )
        if text[0] in ".-" or text[-1] in ".-":
            raise InvalidVersion(
                f"{clip(text)!r} starts or ends with '.' or '-': use e.g. 1.4.0 or 1.4.0-RC1", version=clip(text)
            )
        version = cls(text)
        if version.build_number is not None:
            bounded_build(version.build_number)
        return version

    def __str__(self) -> str:
        return self.text

    @property
    def canonical(self) -> str:
        return self.text

    @property
    def is_snapshot(self) -> bool:
        return self.text.upper().endswith("-SNAPSHOT") or _TIMESTAMPED.fullmatch(self.text) is not None

    @property
    def channel(self) -> Channel:
        if self.is_snapshot:
            return Channel.SNAPSHOT
        if any(q in _RC_QUALIFIERS for q in _qualifiers(_ordered(self.text).items)):
            return Channel.RC
        return Channel.RELEASE

    @property
    def build_number(self) -> int | None:
        match = _FOUR_NUMBERS.fullmatch(self.text) or _TIMESTAMPED.fullmatch(self.text)
        return int(match["build"]) if match else None

    @property
    def has_build(self) -> bool:
        return self.build_number is not None

    @property
    def base(self) -> MavenVersion:
        if four := _FOUR_NUMBERS.fullmatch(self.text):
            return MavenVersion(four["base"])
        if stamped := _TIMESTAMPED.fullmatch(self.text):
            return MavenVersion(f"{stamped['base']}-SNAPSHOT")
        return self

    def with_build(self, number: int) -> MavenVersion:
        if self.has_build:
            raise InvalidVersion(f"{self} already has a build: drop --build", version=str(self))
        if not _THREE_NUMBERS.fullmatch(self.text):
            raise InvalidVersion(
                f"{self} cannot take a build: in Maven a build is the fourth number of a plain "
                "Major.Minor.Patch release (1.4.0 → 1.4.0.57); a snapshot's builds are its timestamped files",
                version=str(self),
            )
        return MavenVersion(f"{self.text}.{bounded_build(number)}")

    @property
    def sort_key(self) -> tuple[object, ...]:
        return (_ordered(self.text), self.text)


@functools.total_ordering
class _Ordered:
    """A parsed version that Python's comparisons order with ComparableVersion's compareTo."""

    __slots__ = ("items",)

    def __init__(self, items: list[Item]) -> None:
        self.items = items

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ordered) and _compare(self.items, other.items) == 0

    def __hash__(self) -> int:
        return 0  # equal versions may have different item lists; only their order is defined

    def __lt__(self, other: _Ordered) -> bool:
        return _compare(self.items, other.items) < 0


@functools.lru_cache(maxsize=4096)
def _ordered(text: str) -> _Ordered:
    # cached whole: the same few versions of a package are sorted again on every listing
    return _Ordered(_parse(text.lower()))


def _parse(text: str) -> list[Item]:
    root: list[Item] = []
    current = root
    stack = [root]
    start = 0
    digits = False

    def sublist() -> None:
        nonlocal current
        nested: list[Item] = []
        current.append(nested)
        current = nested
        stack.append(nested)

    for i, c in enumerate(text):
        if c in ".-":
            current.append(0 if i == start else _item(text[start:i], followed_by_digit=False))
            start = i + 1
            if c == "-":
                sublist()
        elif c.isdigit():
            if not digits and i > start:
                current.append(_qualifier(text[start:i], followed_by_digit=True))
                start = i
                sublist()
            digits = True
        else:
            if digits and i > start:
                current.append(int(text[start:i]))
                start = i
                sublist()
            digits = False
    if len(text) > start:
        current.append(_item(text[start:], followed_by_digit=False))
    for items in reversed(stack):
        _trim(items)
    return root


def _item(token: str, *, followed_by_digit: bool) -> Item:
    return int(token) if token.isdigit() else _qualifier(token, followed_by_digit=followed_by_digit)


def _qualifier(token: str, *, followed_by_digit: bool) -> str:
    if followed_by_digit and token in _SHORTHANDS:
        token = _SHORTHANDS[token]
    return _ALIASES.get(token, token)


def _trim(items: list[Item]) -> None:
    # ComparableVersion.ListItem.normalize: drop null items from the end, looking past nested lists
    for i in range(len(items) - 1, -1, -1):
        item = items[i]
        if _is_null(item):
            del items[i]
        elif not isinstance(item, list):
            break


def _is_null(item: Item) -> bool:
    return item in (0, "", [])


def _rank(qualifier: str) -> tuple[int, str]:
    if qualifier in _QUALIFIERS:
        return (_QUALIFIERS.index(qualifier), "")
    return (len(_QUALIFIERS), qualifier)


def _compare_to_null(item: Item) -> int:
    if isinstance(item, int):
        return 0 if item == 0 else 1
    if isinstance(item, str):
        return _sign(_rank(item)[0] - _RELEASE_RANK)
    return _compare_to_null(item[0]) if item else 0


def _compare_item(left: Item | None, right: Item | None) -> int:
    if left is None or right is None:
        if left is not None:
            return _compare_to_null(left)
        return 0 if right is None else -_compare_to_null(right)
    if isinstance(left, int) and isinstance(right, int):
        return _sign(left - right)
    if isinstance(left, str) and isinstance(right, str):
        a, b = _rank(left), _rank(right)
        return 0 if a == b else (-1 if a < b else 1)
    if isinstance(left, list) and isinstance(right, list):
        return _compare(left, right)
    # ComparableVersion across kinds: a qualifier < a nested list < a number
    return _sign(_KIND[type(left)] - _KIND[type(right)])


def _compare(left: list[Item], right: list[Item]) -> int:
    for i in range(max(len(left), len(right))):
        result = _compare_item(left[i] if i < len(left) else None, right[i] if i < len(right) else None)
        if result:
            return result
    return 0


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def _qualifiers(items: list[Item]) -> list[str]:
    found: list[str] = []
    for item in items:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, list):
            found.extend(_qualifiers(item))
    return found
