"""Versions: one interface, one implementation per scheme, their channels and total order.

``Version`` is what everything annotates; each package format parses its versions with one scheme
(``hoist.domain.packages.scheme_for``): ``SemVer`` here (OCI, generic, npm), ``Pep440`` (PyPI) and
``MavenVersion`` (Maven) in their own modules. Versions are ordered only against versions of the
same scheme, and only ever within one package.

SemVer order: SemVer precedence (https://semver.org/#spec-item-11), then the build: no build, then
numeric builds by value, then any other build metadata by its identifiers. SemVer itself ignores
build metadata; Hoist needs a total order because ``1.4.0+57`` and ``1.4.0+58`` are distinct artifacts.

A four-part version ``1.4.0.57`` is the same version as ``1.4.0+57`` and keeps its spelling for display.
OCI tags cannot hold ``+``, so the tag form replaces it with ``_`` (the Helm convention); SemVer never
contains ``_``, so the mapping is exact both ways.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import ClassVar

from hoist.domain.errors import BuildOutOfRange, InvalidVersion
from hoist.domain.names import clip

MAX_LENGTH = 128  # the OCI tag limit
# Build numbers are stored in signed 64-bit columns (artifacts.build_number, build_counters.last):
# one past this would overflow the database, so every way a build number arrives is checked here.
MAX_BUILD = 2**63 - 1

_NUM = r"0|[1-9]\d*"
_IDENT = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?"
    rf"(?:\+(?P<build>{_IDENT}(?:\.{_IDENT})*))?"
)
_FOUR_PART = re.compile(rf"(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})\.(?P<build>\d+)")
_SNAPSHOT_IDENT = re.compile(r"(?i).*snapshot.*|dev\d*")


class Scheme(StrEnum):
    SEMVER = "semver"
    PEP440 = "pep440"
    MAVEN = "maven"


class Channel(StrEnum):
    SNAPSHOT = "snapshot"
    RC = "rc"
    RELEASE = "release"


class Version(ABC):
    """A version of one package, in its format's scheme.

    ``canonical`` is the identity key in storage (``artifacts.version_key``), ``str()`` the spelling
    shown; ``channel`` is what ceilings and retention read; ``base`` is the version without Hoist's
    build, ``build_number`` that build when it is a number. ``<``/``>`` order versions of one scheme;
    comparing two schemes is a TypeError (the caller mixed packages)."""

    __slots__ = ()
    scheme: ClassVar[Scheme]

    @classmethod
    def parse(cls, text: str) -> Version:
        """SemVer or four-part, exactly as OCI and generic packages have always read versions."""
        return SemVer.parse(text)

    @classmethod
    def from_tag(cls, tag: str) -> Version | None:
        return SemVer.from_tag(tag)

    @property
    @abstractmethod
    def canonical(self) -> str: ...

    @property
    @abstractmethod
    def channel(self) -> Channel: ...

    @property
    @abstractmethod
    def build_number(self) -> int | None: ...

    @property
    @abstractmethod
    def has_build(self) -> bool:
        """Whether the version carries a build part of any kind (``--build`` then has no place)."""

    @property
    @abstractmethod
    def base(self) -> Version: ...

    @abstractmethod
    def with_build(self, number: int) -> Version:
        """This version with Hoist's build ``number``; InvalidVersion where the scheme has no
        spelling for it or the version already has a build."""

    @property
    @abstractmethod
    def sort_key(self) -> tuple[object, ...]:
        """A total order within the scheme: versions the scheme calls equal but spells differently
        (``1.0`` and ``1.0.0``) are told apart by their spelling, because both can be stored."""

    @property
    def tag(self) -> str:
        return str(self).replace("+", "_")

    def _key_against(self, other: Version) -> tuple[object, ...]:
        if other.scheme is not self.scheme:
            raise TypeError(f"a {self.scheme} version cannot be ordered against a {other.scheme} version")
        return self.sort_key

    def __lt__(self, other: Version) -> bool:
        return self._key_against(other) < other.sort_key

    def __le__(self, other: Version) -> bool:
        return self._key_against(other) <= other.sort_key

    def __gt__(self, other: Version) -> bool:
        return self._key_against(other) > other.sort_key

    def __ge__(self, other: Version) -> bool:
        return self._key_against(other) >= other.sort_key


@dataclass(frozen=True, slots=True)
class SemVer(Version):
    scheme: ClassVar[Scheme] = Scheme.SEMVER

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    four_part: bool = field(default=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> SemVer:
        text = version_text(text, "1.4.0, 1.4.0-SNAPSHOT or 1.4.0.57")
        four = _FOUR_PART.fullmatch(text)
        if four:
            return cls(
                int(four["major"]),
                int(four["minor"]),
                int(four["patch"]),
                build=(four["build"],),
                four_part=True,
            )._bounded()
        m = _SEMVER.fullmatch(text)
        if not m:
            raise InvalidVersion(
                f"{clip(text)!r} is not a version: use SemVer 2.0 (1.4.0, 1.4.0-rc.1, 1.4.0-SNAPSHOT+57) "
                "or Major.Minor.Patch.Build (1.4.0.57)",
                version=clip(text),
            )
        pre = tuple(m["pre"].split(".")) if m["pre"] else ()
        for ident in pre:
            if ident.isdigit() and len(ident) > 1 and ident[0] == "0":
                raise InvalidVersion(
                    f"{clip(text)!r}: numeric pre-release identifier {clip(ident)!r} has a leading zero", version=clip(text)
                )
        build = tuple(m["build"].split(".")) if m["build"] else ()
        return cls(int(m["major"]), int(m["minor"]), int(m["patch"]), pre, build)._bounded()

    @classmethod
    def from_tag(cls, tag: str) -> SemVer | None:
        """The version an OCI tag names, or None for a tag that is not a version (``latest``).
        A version tag whose build is out of range is refused, not taken for a movable tag."""
        try:
            return cls.parse(tag.replace("_", "+"))
        except BuildOutOfRange:
            raise
        except InvalidVersion:
            return None

    def _bounded(self) -> SemVer:
        if self.build_number is not None:
            bounded_build(self.build_number)
        return self

    def __str__(self) -> str:
        if self.four_part:
            return f"{self.major}.{self.minor}.{self.patch}.{self.build[0]}"
        return self.canonical

    @property
    def canonical(self) -> str:
        """The SemVer spelling, used as the identity key in storage."""
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    @property
    def channel(self) -> Channel:
        if any(_SNAPSHOT_IDENT.fullmatch(ident) for ident in self.prerelease):
            return Channel.SNAPSHOT
        return Channel.RC if self.prerelease else Channel.RELEASE

    @property
    def build_number(self) -> int | None:
        if len(self.build) == 1 and self.build[0].isdigit():
            return int(self.build[0])
        return None

    @property
    def has_build(self) -> bool:
        return bool(self.build)

    @property
    def base(self) -> SemVer:
        """The version without its build: what ``--build auto`` counts builds of."""
        return replace(self, build=(), four_part=False)

    def with_build(self, number: int) -> SemVer:
        if self.build:
            raise InvalidVersion(
                f"{self} already has a build ({'.'.join(self.build)}): drop --build or the build part",
                version=str(self),
            )
        return replace(self, build=(str(bounded_build(number)),))

    @property
    def sort_key(self) -> tuple[object, ...]:
        return (self.major, self.minor, self.patch, _prerelease_key(self.prerelease), _build_key(self.build))


def version_text(text: str, examples: str) -> str:
    """``text`` without surrounding blanks, refused when empty or longer than the version columns."""
    text = text.strip()
    if not text:
        raise InvalidVersion(f"the version is empty: expected e.g. {examples}")
    if len(text) > MAX_LENGTH:
        raise InvalidVersion(f"version {clip(text)!r} is longer than {MAX_LENGTH} characters", version=clip(text))
    return text


def bounded_build(number: int) -> int:
    """``number`` if it is a build number Hoist can store (0 to MAX_BUILD), else BuildOutOfRange."""
    if not 0 <= number <= MAX_BUILD:
        shown = str(number) if number.bit_length() <= 128 else f"of {number.bit_length()} bits"
        raise BuildOutOfRange(f"build number {shown} is out of range: builds go from 0 to {MAX_BUILD}")
    return number


def build_after(base: Version, highest: int) -> int:
    """The build ``--build auto`` hands out for ``base`` after ``highest``: refused at the bound,
    never past it."""
    if highest >= MAX_BUILD:
        raise BuildOutOfRange(
            f"no build number is left for {base}: builds go up to {MAX_BUILD}; publish a new version", version=str(base)
        )
    return highest + 1


def _prerelease_key(pre: tuple[str, ...]) -> tuple[object, ...]:
    # A release sorts after all its pre-releases; numeric identifiers sort before alphanumeric ones,
    # and a shorter list of equal identifiers sorts first (tuple comparison does exactly that).
    if not pre:
        return (1,)
    return (0, tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in pre))


def _build_key(build: tuple[str, ...]) -> tuple[object, ...]:
    if not build:
        return (0,)
    # the raw identifiers break ties between spellings like 07 and 7, so that the order is total
    if len(build) == 1 and build[0].isdigit():
        return (1, int(build[0]), build)
    return (2, tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in build), build)


def parse_version(scheme: Scheme, text: str) -> Version:
    """``text`` read with ``scheme``: how every store and service reads a version of a package."""
    # imported here because both schemes import this module for the interface they implement
    if scheme is Scheme.PEP440:
        from hoist.domain.pep440 import Pep440

        return Pep440.parse(text)
    if scheme is Scheme.MAVEN:
        from hoist.domain.maven import MavenVersion

        return MavenVersion.parse(text)
    return SemVer.parse(text)
