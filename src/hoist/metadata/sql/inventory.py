"""The SBOM component index and the advisories, on SQL."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from hoist.domain.advisories import Advisory, Affected, Severity
from hoist.domain.digests import Digest
from hoist.domain.inventory import ComponentHit, Running, SbomRecord
from hoist.domain.models import DeploymentStatus
from hoist.domain.sbom import Component, SbomDocument, SbomFormat
from hoist.metadata.sql.tables import (
    AdvisoryPackageRow,
    AdvisoryRow,
    ArtifactRow,
    ComponentRow,
    DeploymentRow,
    PackageRow,
    PlacementRow,
    SbomRow,
)

CHUNK = 500  # rows per INSERT and names per IN (...): under SQLite's variable limit
# A component as indexed, with the artifact digest it was listed for.
_COMPONENT = (
    ComponentRow.subject,
    ComponentRow.type,
    ComponentRow.display,
    ComponentRow.namespace,
    ComponentRow.version,
    ComponentRow.purl,
)


class SqlSboms:
    def __init__(self, session: Session) -> None:
        self._s = session

    @staticmethod
    def _record(row: SbomRow) -> SbomRecord:
        return SbomRecord(
            id=row.id,
            subject=Digest.parse(row.subject),
            document=Digest.parse(row.document),
            format=SbomFormat(row.format),
            spec_version=row.spec_version,
            generated=row.generated,
            components=row.components,
            created_at=row.created_at,
        )

    def add(self, subject: Digest, document: Digest, sbom: SbomDocument, *, now: datetime) -> SbomRecord | None:
        existing = self._s.scalar(select(SbomRow).where(SbomRow.subject == str(subject), SbomRow.document == str(document)))
        if existing is not None:
            return None
        unique = sorted(set(sbom.components), key=lambda c: (c.type, c.key, c.version or "", c.purl or ""))
        row = SbomRow(
            subject=str(subject),
            document=str(document),
            format=str(sbom.format),
            spec_version=sbom.spec_version,
            generated=sbom.generated,
            components=len(unique),
            created_at=now,
        )
        self._s.add(row)
        self._s.flush()
        values = [_component_values(row.id, str(subject), c) for c in unique]
        for start in range(0, len(values), CHUNK):
            self._s.execute(insert(ComponentRow), values[start : start + CHUNK])
        return self._record(row)

    def of(self, subject: Digest) -> Sequence[SbomRecord]:
        rows = self._s.scalars(select(SbomRow).where(SbomRow.subject == str(subject)).order_by(SbomRow.id))
        return [self._record(r) for r in rows]

    def indexed(self, subjects: Collection[Digest]) -> Mapping[Digest, tuple[int, Sequence[Component]]]:
        wanted = sorted({str(d) for d in subjects})
        counts: dict[str, int] = dict.fromkeys(wanted, 0)
        found: dict[str, set[Component]] = {d: set() for d in wanted}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            counted = select(SbomRow.subject, func.count()).where(SbomRow.subject.in_(chunk)).group_by(SbomRow.subject)
            counts.update({str(subject): int(n) for subject, n in self._s.execute(counted)})
            rows = self._s.execute(select(*_COMPONENT).where(ComponentRow.subject.in_(chunk)).distinct())
            for subject, t, n, ns, v, p in rows:
                found[subject].add(Component(type=t, name=n, version=v, namespace=ns, purl=p))
        return {Digest.parse(d): (counts[d], sorted(found[d], key=_component_order)) for d in wanted}

    def versions_of(self, *, key: str | None, name: str | None, type: str | None) -> Sequence[tuple[str, str | None]]:
        query = select(ComponentRow.type, ComponentRow.version).where(_match(key, name, type)).distinct()
        return [(t, v) for t, v in self._s.execute(query)]

    def containing(
        self, *, key: str | None, name: str | None, type: str | None, versions: Sequence[tuple[str, str | None]] | None
    ) -> Sequence[ComponentHit]:
        if versions is not None and not versions:
            return []
        base = (
            select(
                *_COMPONENT,
                PackageRow.name,
                ArtifactRow.version,
                PlacementRow.registry_name,
            )
            .join(ArtifactRow, ArtifactRow.digest == ComponentRow.subject)
            .join(PackageRow, ArtifactRow.package_id == PackageRow.id)
            .join(PlacementRow, PlacementRow.artifact_id == ArtifactRow.id)
            .where(_match(key, name, type))
        )  # no DISTINCT: the service folds duplicates (two SBOMs of one artifact) into sets anyway
        if versions is None:  # any version: one indexed lookup
            return self._hits(base)
        wanted = set(versions)  # a few exact versions (ranges are decided by the service over one lookup)
        exact = [(t, v) for t, v in wanted if v is not None]
        versionless = sorted({t for t, v in wanted if v is None})
        hits: list[ComponentHit] = []
        if versionless:
            hits += self._hits(base.where(ComponentRow.type.in_(versionless), ComponentRow.version.is_(None)))
        if exact:
            hits += self._hits(base.where(tuple_(ComponentRow.type, ComponentRow.version).in_(exact)))
        return hits

    def _hits(self, query: Any) -> list[ComponentHit]:
        return [
            ComponentHit(_digest(s), Component(type=t, name=n, namespace=ns, version=v, purl=p), package, version, registry)
            for s, t, n, ns, v, p, package, version, registry in self._s.connection().execute(query)  # Core: plain rows
        ]

    def running(self) -> Sequence[Running]:
        rows = self._s.execute(
            select(DeploymentRow.environment, PackageRow.name, DeploymentRow.digest, ArtifactRow.version)
            .join(ArtifactRow, DeploymentRow.artifact_id == ArtifactRow.id)
            .join(PackageRow, ArtifactRow.package_id == PackageRow.id)
            .where(DeploymentRow.status == str(DeploymentStatus.SUCCEEDED))
            .order_by(DeploymentRow.id.desc())
        )
        current: dict[tuple[str, str], Running] = {}
        for env, package, digest, version in rows:
            current.setdefault((env, package), Running(env, package, Digest.parse(digest), version))
        return list(current.values())


def _digest(text: str) -> Digest:
    """A digest this store wrote itself (validated on the way in): no need to check it again per row."""
    algorithm, _, encoded = text.partition(":")
    return Digest(algorithm, encoded)


def _match(key: str | None, name: str | None, type: str | None) -> Any:
    clauses = []
    if key is not None:
        clauses.append(ComponentRow.key == key)
    if name is not None:
        clauses.append(ComponentRow.name == name)
    if type is not None:
        clauses.append(ComponentRow.type == type)
    return and_(*clauses)


def _component_values(sbom_id: int, subject: str, c: Component) -> dict[str, Any]:
    return {
        "sbom_id": sbom_id,
        "subject": subject,
        "type": c.type,
        "key": c.key[:512],
        "name": c.name.lower()[:255],
        "display": c.name[:512],
        "namespace": c.namespace[:255] if c.namespace else None,
        "version": c.version[:255] if c.version else None,
        "purl": c.purl,
    }


class SqlAdvisories:
    def __init__(self, session: Session) -> None:
        self._s = session

    def upsert(self, advisory: Advisory, keys: Sequence[tuple[str, str]], *, now: datetime) -> str:
        existing = self._s.get(AdvisoryRow, advisory.id)
        if existing is not None:
            if existing.modified >= advisory.modified and existing.raw == advisory.raw:
                return "unchanged"
            if existing.modified > advisory.modified:
                return "unchanged"  # an older copy of a record we have: keep the newer
            self._s.execute(delete(AdvisoryPackageRow).where(AdvisoryPackageRow.advisory_id == advisory.id))
            self._s.delete(existing)
            self._s.flush()
        self._s.add(
            AdvisoryRow(
                id=advisory.id,
                aliases={"aliases": list(advisory.aliases)},
                summary=advisory.summary,
                severity=int(advisory.severity),
                score=advisory.score,
                modified=advisory.modified,
                raw=advisory.raw,
                imported_at=now,
            )
        )
        self._s.flush()
        for (type_, key), affected in zip(keys, advisory.affected, strict=True):
            self._s.add(AdvisoryPackageRow(advisory_id=advisory.id, type=type_, key=key, affected=_affected_dict(affected)))
        self._s.flush()
        return "created" if existing is None else "updated"

    def naming(self, keys: Iterable[tuple[str, str]]) -> Sequence[Advisory]:
        wanted = sorted(set(keys))
        ids: set[str] = set()
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            ids.update(
                self._s.scalars(
                    select(AdvisoryPackageRow.advisory_id).where(
                        tuple_(AdvisoryPackageRow.type, AdvisoryPackageRow.key).in_(chunk)
                    )
                )
            )
        found: list[Advisory] = []
        ordered = sorted(ids)
        for start in range(0, len(ordered), CHUNK):
            chunk_ids = ordered[start : start + CHUNK]
            packages: dict[str, list[Affected]] = {}
            for p in self._s.scalars(
                select(AdvisoryPackageRow)
                .where(AdvisoryPackageRow.advisory_id.in_(chunk_ids))
                .order_by(AdvisoryPackageRow.id)
            ):
                packages.setdefault(p.advisory_id, []).append(_affected(p.affected))
            for row in self._s.scalars(select(AdvisoryRow).where(AdvisoryRow.id.in_(chunk_ids))):
                found.append(
                    Advisory(
                        id=row.id,
                        aliases=tuple(row.aliases.get("aliases", [])),
                        summary=row.summary,
                        severity=Severity(row.severity),
                        score=row.score,
                        modified=row.modified,
                        affected=tuple(packages.get(row.id, [])),
                        raw=row.raw,
                    )
                )
        return sorted(found, key=lambda a: a.id)

    def count(self) -> int:
        return int(self._s.scalar(select(func.count()).select_from(AdvisoryRow)) or 0)


def _affected_dict(a: Affected) -> dict[str, Any]:
    return {"ecosystem": a.ecosystem, "name": a.name, "purl": a.purl, "ranges": list(a.ranges), "versions": list(a.versions)}


def _affected(d: dict[str, Any]) -> Affected:
    return Affected(
        ecosystem=d["ecosystem"],
        name=d["name"],
        purl=d.get("purl"),
        ranges=tuple(d.get("ranges", [])),
        versions=tuple(d.get("versions", [])),
    )


def _component_order(c: Component) -> tuple[str, str, str]:
    return (c.type, c.key, c.version or "")
