"""PEP 440 versions, the scheme of PyPI packages (https://peps.python.org/pep-0440/).

Parsed with the PEP's own permissive regex (Appendix B), so every spelling pip accepts is read, and
stored in the normalised spelling pip and PyPI show (``1.0.0RC1`` → ``1.0.0rc1``). Local versions
(``+abc``) are refused: they mark a build that was never meant for an index, and Hoist promotes the
one published build of a version everywhere.

Hoist's build number is the fourth release segment of a plain release (``1.4.0.57`` is ``1.4.0``
build 57), the spelling four-part versions already have elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from hoist.domain.errors import InvalidVersion
from hoist.domain.names import clip
from hoist.domain.versions import MAX_LENGTH, Channel, Scheme, Version, bounded_build, version_text

_PATTERN = re.compile(
    r"""
    v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
    (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_PRE_SPELLING = {"alpha": "a", "a": "a", "beta": "b", "b": "b", "c": "rc", "pre": "rc", "preview": "rc", "rc": "rc"}
_PRE_ORDER = {"a": 0, "b": 1, "rc": 2}
_BUILD_SEGMENT = 3  # the index of the release segment that holds Hoist's build


@dataclass(frozen=True, slots=True)
class Pep440(Version):
    scheme: ClassVar[Scheme] = Scheme.PEP440

    epoch: int
    release: tuple[int, ...]
    pre: tuple[str, int] | None = None
    post: int | None = None
    dev: int | None = None

    @classmethod
    def parse(cls, text: str) -> Pep440:
        text = version_text(text, "1.4.0, 1.4.0rc1 or 1.4.0.dev3")
        m = _PATTERN.fullmatch(text)
        if not m:
            raise InvalidVersion(
                f"{clip(text)!r} is not a PEP 440 version: use e.g. 1.4.0, 1.4.0rc1, 1.4.0.post1 or 1.4.0.dev3",
                version=clip(text),
            )
        if m["local"] is not None:
            raise InvalidVersion(
                f"{clip(text)!r} is a local version: a '+{clip(m['local'], 16)}' label marks a build not meant "
                "for an index, and Hoist promotes the same published build everywhere; publish it without "
                "the '+...' part",
                version=clip(text),
            )
        pre = (_PRE_SPELLING[m["pre_l"].lower()], int(m["pre_n"] or 0)) if m["pre_l"] else None
        post: int | None = None
        if m["post_n1"] is not None:
            post = int(m["post_n1"])
        elif m["post_l"] is not None:
            post = int(m["post_n2"] or 0)
        dev = int(m["dev_n"] or 0) if m["dev_l"] else None
        version = cls(int(m["epoch"] or 0), tuple(int(p) for p in m["release"].split(".")), pre, post, dev)
        if len(version.canonical) > MAX_LENGTH:  # normalising can lengthen it (1a → 1a0)
            raise InvalidVersion(f"version {clip(text)!r} is longer than {MAX_LENGTH} characters", version=clip(text))
        if version.build_number is not None:
            bounded_build(version.build_number)
        return version

    def __str__(self) -> str:
        return self.canonical

    @property
    def canonical(self) -> str:
        text = f"{self.epoch}!" if self.epoch else ""
        text += ".".join(str(p) for p in self.release)
        if self.pre is not None:
            text += f"{self.pre[0]}{self.pre[1]}"
        if self.post is not None:
            text += f".post{self.post}"
        if self.dev is not None:
            text += f".dev{self.dev}"
        return text

    @property
    def channel(self) -> Channel:
        if self.dev is not None:
            return Channel.SNAPSHOT
        return Channel.RC if self.pre is not None else Channel.RELEASE

    @property
    def _plain(self) -> bool:
        return self.pre is None and self.post is None and self.dev is None

    @property
    def build_number(self) -> int | None:
        if self._plain and len(self.release) == _BUILD_SEGMENT + 1:
            return self.release[_BUILD_SEGMENT]
        return None

    @property
    def has_build(self) -> bool:
        return self.build_number is not None

    @property
    def base(self) -> Pep440:
        if self.build_number is None:
            return self
        return Pep440(self.epoch, self.release[:_BUILD_SEGMENT])

    def with_build(self, number: int) -> Pep440:
        if self.has_build:
            raise InvalidVersion(f"{self} already has a build (its fourth part): drop --build", version=str(self))
        if not self._plain or len(self.release) != _BUILD_SEGMENT:
            raise InvalidVersion(
                f"{self} cannot take a build: in PEP 440 a build is the fourth part of a plain "
                "Major.Minor.Patch release (1.4.0 → 1.4.0.57)",
                version=str(self),
            )
        return Pep440(self.epoch, (*self.release, bounded_build(number)))

    @property
    def sort_key(self) -> tuple[object, ...]:
        release = list(self.release)
        while len(release) > 1 and release[-1] == 0:  # 1.0 == 1.0.0 in PEP 440's order
            release.pop()
        # PEP 440 "Summary of permitted suffixes and relative ordering": a dev release of a release
        # sorts before its pre-releases, a release after them, post-releases after the release.
        if self.pre is None and self.post is None and self.dev is not None:
            pre: tuple[int, int] = (-1, 0)
        elif self.pre is None:
            pre = (3, 0)
        else:
            pre = (_PRE_ORDER[self.pre[0]], self.pre[1])
        post = -1 if self.post is None else self.post
        dev = (1, 0) if self.dev is None else (0, self.dev)
        return (self.epoch, tuple(release), pre, post, dev, self.release)
