"""Ports for what an artifact contains and what is known to be wrong with it: the SBOM index the
"am I affected?" query reads, the advisories imported from OSV, and the adapters that read SBOMs
and match versions against advisory ranges (the services see only these protocols)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from hoist.domain.advisories import Advisory, Affected
from hoist.domain.digests import Digest
from hoist.domain.sbom import Component, SbomDocument, SbomFormat


@dataclass(frozen=True, slots=True)
class SbomRecord:
    id: int
    subject: Digest  # the artifact's manifest digest
    document: Digest  # the SBOM's bytes, as a blob
    format: SbomFormat
    spec_version: str
    generated: bool
    components: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ComponentHit:
    """A matching component, in an artifact version placed in a registry (one hit per registry)."""

    subject: Digest
    component: Component
    package: str
    version: str
    registry: str


@dataclass(frozen=True, slots=True)
class Running:
    """What an environment runs now for one package."""

    environment: str
    package: str
    digest: Digest
    version: str


class SbomRepository(Protocol):
    def add(self, subject: Digest, document: Digest, sbom: SbomDocument, *, now: datetime) -> SbomRecord | None:
        """Index ``sbom`` for ``subject``; None when this exact document is already indexed for it."""
        ...

    def of(self, subject: Digest) -> Sequence[SbomRecord]: ...

    def indexed(self, subjects: Collection[Digest]) -> Mapping[Digest, tuple[int, Sequence[Component]]]:
        """For each subject, how many SBOMs it has and every component they list (de-duplicated), in
        a bounded number of reads whatever the number of subjects (the web UI's board)."""
        ...

    def versions_of(self, *, key: str | None, name: str | None, type: str | None) -> Sequence[tuple[str, str | None]]:
        """The distinct (type, version) pairs indexed for a component key (namespace/name) or bare name."""
        ...

    def containing(
        self, *, key: str | None, name: str | None, type: str | None, versions: Sequence[tuple[str, str | None]] | None
    ) -> Sequence[ComponentHit]:
        """Components matching the key or name whose (type, version) is one of ``versions`` (None: any)."""
        ...

    def running(self) -> Sequence[Running]:
        """What each environment runs now (the newest succeeded deployment per environment and package)."""
        ...


class AdvisoryRepository(Protocol):
    def upsert(self, advisory: Advisory, keys: Sequence[tuple[str, str]], *, now: datetime) -> str:
        """Store or replace (when newer) an advisory, indexed by (purl type, key) per affected entry:
        returns "created", "updated" or "unchanged"."""
        ...

    def naming(self, keys: Iterable[tuple[str, str]]) -> Sequence[Advisory]:
        """Advisories with an affected entry for any of these (purl type, key) pairs."""
        ...

    def count(self) -> int: ...


class SbomReader(Protocol):
    """The SBOM adapter: generate at push, read what is supplied, export."""

    def generate_for_files(
        self, files: Sequence[tuple[Path, str]], *, name: str, version: str, now: datetime
    ) -> SbomDocument:
        """One SBOM for an artifact made of these (path, file name) pairs."""
        ...

    def generate_for_image(
        self,
        layers: Sequence[tuple[str, Callable[[], BinaryIO]]],
        *,
        name: str,
        version: str,
        digest: str,
        now: datetime,
    ) -> SbomDocument: ...

    def read(self, data: bytes) -> SbomDocument: ...

    def to_spdx(self, sbom: SbomDocument, *, namespace: str, now: datetime) -> bytes: ...


class RangeSpec(Protocol):
    def contains(self, version: str, purl_type: str | None = None) -> bool: ...


@dataclass(frozen=True, slots=True)
class Query:
    type: str | None
    key: str
    version: str | None
    name: str


class AdvisoryMatcher(Protocol):
    """The vulnerability adapter: OSV in, version-range decisions out."""

    def read_files(self, paths: Iterable[Path]) -> Iterable[Advisory]: ...

    def affected_key(self, affected: Affected) -> tuple[str, str]: ...

    def component_keys(self, component: Component) -> tuple[tuple[str, str], ...]:
        """The (purl type, key) pairs an advisory may name this component by (its own, its source package)."""
        ...

    def affects(self, affected: Affected, component: Component) -> bool: ...

    def parse_range(self, spec: str, purl_type: str | None) -> RangeSpec: ...

    def parse_query(self, text: str) -> Query: ...
