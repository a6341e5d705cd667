"""SQL implementations of the metadata repositories; each maps rows to domain records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hoist.domain.digests import Digest
from hoist.domain.errors import ArtifactNotFound, ConcurrentUpdate, DeploymentNotFound
from hoist.domain.manifests import Manifest, parse_manifest
from hoist.domain.models import (
    Artifact,
    Attachment,
    AttachmentKind,
    Deployment,
    DeploymentKind,
    DeploymentStatus,
    Hold,
    Pipeline,
    Placement,
    PlacementVia,
    Result,
)
from hoist.domain.packages import scheme_for
from hoist.domain.ports import ManifestGraph
from hoist.domain.versions import Version, build_after, parse_version
from hoist.metadata.sql.generations import bump_artifact
from hoist.metadata.sql.inventory import CHUNK
from hoist.metadata.sql.tables import (
    ArtifactRow,
    AttachmentRow,
    BuildCounterRow,
    DeploymentHeadRow,
    DeploymentRow,
    HoldRow,
    ManifestBlobRow,
    ManifestRow,
    PackageRow,
    PlacementHeadRow,
    PlacementRow,
    RepositoryManifestRow,
    TrashRow,
)


def _pipeline(data: dict[str, Any] | None) -> Pipeline | None:
    return Pipeline.from_dict(data) if data else None


def _pipeline_dict(p: Pipeline | None) -> dict[str, Any] | None:
    return dict(p.as_dict()) if p else None


class SqlManifests:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, manifest: Manifest, *, now: datetime) -> None:
        digest = str(manifest.digest)
        if self._s.get(ManifestRow, digest) is not None:
            return
        self._s.add(
            ManifestRow(
                digest=digest,
                media_type=manifest.media_type,
                artifact_type=manifest.artifact_type,
                subject=str(manifest.subject.digest) if manifest.subject else None,
                size=len(manifest.raw),
                content=manifest.raw,
                created_at=now,
            )
        )
        self._s.flush()  # the edges below refer to this row
        references = {str(d) for d in manifest.blob_digests()} | {str(d.digest) for d in manifest.manifests}
        self._s.add_all(ManifestBlobRow(manifest_digest=digest, blob_digest=b) for b in sorted(references))
        self._s.flush()

    def get(self, digest: Digest) -> Manifest | None:
        row = self._s.get(ManifestRow, str(digest))
        return parse_manifest(row.content, row.media_type, digest.algorithm) if row else None

    def size(self, digest: Digest) -> int | None:
        found: int | None = self._s.execute(select(ManifestRow.size).where(ManifestRow.digest == str(digest))).scalar()
        return found

    def roots(self) -> set[Digest]:
        placed = select(ArtifactRow.digest).join(PlacementRow, PlacementRow.artifact_id == ArtifactRow.id)
        trashed = (
            select(ArtifactRow.digest)
            .join(TrashRow, TrashRow.artifact_id == ArtifactRow.id)
            .where(TrashRow.restored_at.is_(None), TrashRow.purged_at.is_(None))
        )
        named = union(select(RepositoryManifestRow.digest), placed, trashed)
        return {Digest.parse(d) for d in self._s.execute(named).scalars()}

    def referrers(self, subject: Digest) -> Sequence[Digest]:
        rows = self._s.execute(select(ManifestRow.digest).where(ManifestRow.subject == str(subject)))
        return [Digest.parse(d) for d in rows.scalars()]

    def graph(self) -> ManifestGraph:
        manifests: set[Digest] = set()
        referrers: dict[Digest, set[Digest]] = defaultdict(set)
        for digest, subject in self._s.execute(select(ManifestRow.digest, ManifestRow.subject)):
            manifests.add(Digest.parse(digest))
            if subject:
                referrers[Digest.parse(subject)].add(Digest.parse(digest))
        references: dict[Digest, set[Digest]] = defaultdict(set)
        for source, target in self._s.execute(select(ManifestBlobRow.manifest_digest, ManifestBlobRow.blob_digest)):
            references[Digest.parse(source)].add(Digest.parse(target))
        return ManifestGraph(
            frozenset(manifests),
            {d: frozenset(r) for d, r in references.items()},
            {d: frozenset(r) for d, r in referrers.items()},
        )


class SqlArtifacts:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _select(self) -> Any:
        return select(ArtifactRow, PackageRow).join(PackageRow, ArtifactRow.package_id == PackageRow.id)

    @staticmethod
    def _record(row: ArtifactRow, package: PackageRow) -> Artifact:
        version = parse_version(scheme_for(package.format), row.version)
        return Artifact(
            id=row.id,
            package=package.name,
            format=package.format,
            version=version,
            digest=Digest.parse(row.digest),
            media_type=row.media_type,
            size=row.size,
            ceiling=row.ceiling,
            pushed_by=row.pushed_by,
            pushed_at=row.pushed_at,
            pipeline=_pipeline(row.pipeline),
        )

    def get(self, package: str, version: Version) -> Artifact | None:
        found = self._s.execute(
            self._select().where(PackageRow.name == package, ArtifactRow.version_key == version.canonical)
        ).first()
        return self._record(*found) if found else None

    def get_by_id(self, artifact_id: int) -> Artifact:
        found = self._s.execute(self._select().where(ArtifactRow.id == artifact_id)).first()
        if not found:
            raise ArtifactNotFound(f"artifact {artifact_id} is unknown")
        return self._record(*found)

    def by_digest(self, package: str, digest: Digest) -> Artifact | None:
        found = self._s.execute(
            self._select().where(PackageRow.name == package, ArtifactRow.digest == str(digest)).order_by(ArtifactRow.id)
        ).first()
        return self._record(*found) if found else None

    def _package(self, name: str, format: str, now: datetime) -> PackageRow:
        row = self._s.execute(select(PackageRow).where(PackageRow.name == name)).scalar_one_or_none()
        if row is None:
            row = PackageRow(name=name, format=format, created_at=now)
            self._s.add(row)
            self._s.flush()
        return row

    def add(
        self,
        *,
        package: str,
        format: str,
        version: Version,
        manifest: Manifest,
        ceiling: str,
        pushed_by: str,
        pushed_at: datetime,
        pipeline: Pipeline | None,
    ) -> Artifact:
        pkg = self._package(package, format, pushed_at)
        row = ArtifactRow(
            package_id=pkg.id,
            version=str(version),
            version_key=version.canonical,
            base_key=version.base.canonical,
            build_number=version.build_number,
            channel=str(version.channel),
            digest=str(manifest.digest),
            media_type=manifest.media_type,
            size=_content_size(manifest),
            ceiling=ceiling,
            pushed_by=pushed_by,
            pushed_at=pushed_at,
            pipeline=_pipeline_dict(pipeline),
        )
        self._s.add(row)
        self._s.flush()
        return self._record(row, pkg)

    def replace_content(self, artifact_id: int, manifest: Manifest, *, pushed_by: str, pushed_at: datetime) -> Artifact:
        row = self._s.get(ArtifactRow, artifact_id)
        if row is None:
            raise ArtifactNotFound(f"artifact {artifact_id} is unknown")
        row.digest = str(manifest.digest)
        row.media_type = manifest.media_type
        row.size = _content_size(manifest)
        row.pushed_by = pushed_by
        row.pushed_at = pushed_at
        self._s.flush()
        bump_artifact(self._s, artifact_id)
        return self.get_by_id(artifact_id)

    def find(self, *, package: str | None = None, registry: str | None = None) -> Sequence[Artifact]:
        query = self._select()
        if package is not None:
            query = query.where(PackageRow.name == package)
        if registry is not None:
            query = query.where(
                ArtifactRow.id.in_(select(PlacementRow.artifact_id).where(PlacementRow.registry_name == registry))
            )
        records = [self._record(*r) for r in self._s.execute(query)]
        return sorted(records, key=lambda a: (a.package, a.version.sort_key))

    def by_ids(self, ids: Collection[int]) -> Sequence[Artifact]:
        return [
            self._record(*r) for part in _parts(ids) for r in self._s.execute(self._select().where(ArtifactRow.id.in_(part)))
        ]

    def ensure_package(self, package: str, format: str, *, now: datetime) -> None:
        self._package(package, format, now)

    def package_format(self, package: str) -> str | None:
        return self._s.execute(select(PackageRow.format).where(PackageRow.name == package)).scalar_one_or_none()

    def next_build(self, package: str, base: Version) -> int:
        key = base.canonical
        dialect = self._s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._s.execute(insert(BuildCounterRow).values(package=package, base_key=key, last=0).on_conflict_do_nothing())
        last = self._s.execute(
            select(BuildCounterRow.last)
            .where(BuildCounterRow.package == package, BuildCounterRow.base_key == key)
            .with_for_update()
        ).scalar_one()
        highest = self._s.execute(
            select(func.max(ArtifactRow.build_number))
            .join(PackageRow, ArtifactRow.package_id == PackageRow.id)
            .where(PackageRow.name == package, ArtifactRow.base_key == key)
        ).scalar_one()
        number = build_after(base, max(last, highest or 0))
        self._s.execute(
            update(BuildCounterRow)
            .where(BuildCounterRow.package == package, BuildCounterRow.base_key == key)
            .values(last=number)
        )
        return number


def _content_size(manifest: Manifest) -> int:
    """What a user calls the artifact's size: the bytes of its files (layers)."""
    return sum(d.size for d in manifest.layers)


class SqlPlacements:
    def __init__(self, session: Session) -> None:
        self._s = session

    @staticmethod
    def _record(row: PlacementRow) -> Placement:
        return Placement(
            artifact_id=row.artifact_id,
            registry=row.registry_name,
            sealed=row.sealed,
            via=PlacementVia(row.via),
            placed_by=row.placed_by,
            placed_at=row.placed_at,
        )

    def add(
        self, artifact_id: int, registry: str, *, sealed: bool, via: PlacementVia, actor: str, now: datetime
    ) -> Placement:
        existing = self._s.execute(
            select(PlacementRow).where(PlacementRow.artifact_id == artifact_id, PlacementRow.registry_name == registry)
        ).scalar_one_or_none()
        if existing is not None:
            raise ConcurrentUpdate(f"artifact {artifact_id} is already in {registry}")
        row = PlacementRow(
            artifact_id=artifact_id,
            registry_name=registry,
            sealed=sealed,
            via=str(via),
            placed_by=actor,
            placed_at=now,
        )
        self._s.add(row)
        self._s.flush()
        package_id = self._s.execute(select(ArtifactRow.package_id).where(ArtifactRow.id == artifact_id)).scalar_one()
        _raise_head(
            self._s,
            PlacementHeadRow,
            {"package_id": package_id, "registry": registry},
            {"placement_id": row.id, "placed_at": now},
            lambda head, new: new.placed_at >= head.placed_at,
        )
        bump_artifact(self._s, artifact_id)
        return self._record(row)

    def remove(self, artifact_id: int, registry: str) -> bool:
        self._lower_head(artifact_id, registry)
        removed = self._s.execute(
            delete(PlacementRow).where(PlacementRow.artifact_id == artifact_id, PlacementRow.registry_name == registry)
        )
        if removed.rowcount:  # type: ignore[attr-defined]
            bump_artifact(self._s, artifact_id)
        return bool(removed.rowcount)  # type: ignore[attr-defined]

    def _lower_head(self, artifact_id: int, registry: str) -> None:
        """Before the placement goes: if it is its package's newest in ``registry``, the next newest
        takes its place (or none is left)."""
        found = self._s.execute(
            select(PlacementRow.id, ArtifactRow.package_id)
            .join(ArtifactRow, ArtifactRow.id == PlacementRow.artifact_id)
            .where(PlacementRow.artifact_id == artifact_id, PlacementRow.registry_name == registry)
        ).first()
        if found is None:
            return
        placement_id, package_id = found
        head = self._s.get(PlacementHeadRow, (package_id, registry), with_for_update=True)
        if head is None or head.placement_id != placement_id:
            return
        nxt = self._s.execute(
            select(PlacementRow.id, PlacementRow.placed_at)
            .join(ArtifactRow, ArtifactRow.id == PlacementRow.artifact_id)
            .where(
                ArtifactRow.package_id == package_id, PlacementRow.registry_name == registry, PlacementRow.id != placement_id
            )
            .order_by(PlacementRow.placed_at.desc(), PlacementRow.id.desc())
            .limit(1)
        ).first()
        if nxt is None:
            self._s.delete(head)
        else:
            head.placement_id, head.placed_at = nxt
        self._s.flush()

    def of(self, artifact_id: int) -> Sequence[Placement]:
        rows = self._s.execute(
            select(PlacementRow).where(PlacementRow.artifact_id == artifact_id).order_by(PlacementRow.id)
        ).scalars()
        return [self._record(r) for r in rows]

    def newest(self, registries: Collection[str], *, package_contains: str = "") -> Sequence[Placement]:
        query = (
            select(PlacementRow)
            .join(PlacementHeadRow, PlacementHeadRow.placement_id == PlacementRow.id)
            .join(PackageRow, PackageRow.id == PlacementHeadRow.package_id)
            .where(PlacementHeadRow.registry_name.in_(list(registries)))
        )
        return [self._record(r) for r in self._s.execute(_named_containing(query, package_contains)).scalars()]

    def of_artifacts(self, ids: Collection[int]) -> Sequence[Placement]:
        return [
            self._record(r)
            for part in _parts(ids)
            for r in self._s.execute(select(PlacementRow).where(PlacementRow.artifact_id.in_(part))).scalars()
        ]


class SqlAttachments:
    def __init__(self, session: Session) -> None:
        self._s = session

    @staticmethod
    def _record(row: AttachmentRow) -> Attachment:
        return Attachment(
            id=row.id,
            subject=Digest.parse(row.subject),
            kind=AttachmentKind(row.kind),
            type=row.type,
            result=Result(row.result) if row.result else None,
            environment=row.environment,
            actor=row.actor,
            created_at=row.created_at,
            details=dict(row.details or {}),
            pipeline=_pipeline(row.pipeline),
        )

    def add(
        self,
        *,
        subject: Digest,
        kind: AttachmentKind,
        type: str,
        result: Result | None,
        environment: str | None,
        actor: str,
        now: datetime,
        details: dict[str, object],
        pipeline: Pipeline | None,
    ) -> Attachment:
        row = AttachmentRow(
            subject=str(subject),
            kind=str(kind),
            type=type,
            result=str(result) if result else None,
            environment=environment,
            actor=actor,
            created_at=now,
            details=dict(details),
            pipeline=_pipeline_dict(pipeline),
        )
        self._s.add(row)
        self._s.flush()
        return self._record(row)

    def of(self, subject: Digest) -> Sequence[Attachment]:
        rows = self._s.execute(
            select(AttachmentRow).where(AttachmentRow.subject == str(subject)).order_by(AttachmentRow.id)
        ).scalars()
        return [self._record(r) for r in rows]

    def of_subjects(self, subjects: Collection[Digest]) -> Mapping[Digest, Sequence[Attachment]]:
        found: dict[Digest, list[Attachment]] = {d: [] for d in subjects}
        wanted = sorted(str(d) for d in subjects)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            rows = self._s.execute(
                select(AttachmentRow).where(AttachmentRow.subject.in_(chunk)).order_by(AttachmentRow.id)
            ).scalars()
            for r in rows:
                record = self._record(r)
                found[record.subject].append(record)
        return found


class SqlDeployments:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _select(self) -> Any:
        return (
            select(DeploymentRow, ArtifactRow.version, PackageRow.name, PackageRow.format)
            .join(ArtifactRow, DeploymentRow.artifact_id == ArtifactRow.id)
            .join(PackageRow, ArtifactRow.package_id == PackageRow.id)
        )

    @staticmethod
    def _record(row: DeploymentRow, version: str, package: str, format: str) -> Deployment:
        return Deployment(
            id=row.id,
            artifact_id=row.artifact_id,
            package=package,
            version=parse_version(scheme_for(format), version),
            digest=Digest.parse(row.digest),
            environment=row.environment,
            status=DeploymentStatus(row.status),
            kind=DeploymentKind(row.kind),
            actor=row.actor,
            started_at=row.started_at,
            finished_at=row.finished_at,
            pipeline=_pipeline(row.pipeline),
            reason=row.reason,
            exit_code=row.exit_code,
        )

    def add(
        self,
        artifact: Artifact,
        environment: str,
        *,
        status: DeploymentStatus,
        kind: DeploymentKind,
        actor: str,
        now: datetime,
        pipeline: Pipeline | None,
        reason: str | None,
    ) -> Deployment:
        row = DeploymentRow(
            artifact_id=artifact.id,
            digest=str(artifact.digest),
            environment=environment,
            status=str(status),
            kind=str(kind),
            actor=actor,
            started_at=now,
            finished_at=None if status is DeploymentStatus.STARTED else now,
            pipeline=_pipeline_dict(pipeline),
            reason=reason,
        )
        self._s.add(row)
        self._s.flush()
        if status is DeploymentStatus.SUCCEEDED:
            self._raise_head(row)
        return self.get(row.id)

    def _raise_head(self, row: DeploymentRow) -> None:
        """``row`` succeeded: it runs in its environment now, unless a newer one succeeded there first."""
        package_id = self._s.execute(select(ArtifactRow.package_id).where(ArtifactRow.id == row.artifact_id)).scalar_one()
        _raise_head(
            self._s,
            DeploymentHeadRow,
            {"package_id": package_id, "environment": row.environment},
            {"deployment_id": row.id},
            lambda head, new: new.deployment_id > head.deployment_id,
        )

    def get(self, deployment_id: int) -> Deployment:
        found = self._s.execute(self._select().where(DeploymentRow.id == deployment_id)).first()
        if not found:
            raise DeploymentNotFound(f"deployment {deployment_id} is unknown", deployment=deployment_id)
        return self._record(*found)

    def finish(self, deployment_id: int, status: DeploymentStatus, *, now: datetime, exit_code: int | None) -> Deployment:
        row = self._s.get(DeploymentRow, deployment_id, with_for_update=True)
        if row is None:
            raise DeploymentNotFound(f"deployment {deployment_id} is unknown", deployment=deployment_id)
        row.status = str(status)
        row.finished_at = now
        row.exit_code = exit_code
        self._s.flush()
        if status is DeploymentStatus.SUCCEEDED:
            self._raise_head(row)
        return self.get(deployment_id)

    def history(self, *, environment: str | None = None, package: str | None = None) -> Sequence[Deployment]:
        query = self._select().order_by(DeploymentRow.id.desc())
        if environment is not None:
            query = query.where(DeploymentRow.environment == environment)
        if package is not None:
            query = query.where(PackageRow.name == package)
        return [self._record(*r) for r in self._s.execute(query)]

    def current(self, *, package_contains: str = "") -> Sequence[Deployment]:
        query = self._select().join(DeploymentHeadRow, DeploymentHeadRow.deployment_id == DeploymentRow.id)
        return [self._record(*r) for r in self._s.execute(_named_containing(query, package_contains))]

    def succeeded_environments_of(self, ids: Collection[int]) -> Mapping[int, frozenset[str]]:
        found: dict[int, set[str]] = defaultdict(set)
        for part in _parts(ids):
            rows = self._s.execute(
                select(DeploymentRow.artifact_id, DeploymentRow.environment)
                .where(DeploymentRow.artifact_id.in_(part), DeploymentRow.status == str(DeploymentStatus.SUCCEEDED))
                .distinct()
            )
            for artifact_id, environment in rows:
                found[artifact_id].add(environment)
        return {artifact_id: frozenset(envs) for artifact_id, envs in found.items()}

    def succeeded_environments(self, artifact_id: int) -> frozenset[str]:
        rows = self._s.execute(
            select(DeploymentRow.environment)
            .where(
                DeploymentRow.artifact_id == artifact_id,
                DeploymentRow.status == str(DeploymentStatus.SUCCEEDED),
            )
            .distinct()
        ).scalars()
        return frozenset(rows)


class SqlHolds:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, artifact_id: int, environment: str, *, reason: str, actor: str, now: datetime) -> Hold:
        row = self._s.get(HoldRow, (artifact_id, environment))
        if row is None:
            row = HoldRow(artifact_id=artifact_id, environment=environment, reason=reason, actor=actor, created_at=now)
            self._s.add(row)
        else:
            row.reason, row.actor, row.created_at = reason, actor, now
        self._s.flush()
        return Hold(artifact_id, environment, row.reason, row.actor, row.created_at)

    def release(self, artifact_id: int, environment: str) -> bool:
        row = self._s.get(HoldRow, (artifact_id, environment))
        if row is None:
            return False
        self._s.delete(row)
        self._s.flush()
        return True

    def of(self, artifact_id: int) -> Sequence[Hold]:
        return self._holds(select(HoldRow).where(HoldRow.artifact_id == artifact_id))

    def every(self) -> Sequence[Hold]:
        return self._holds(select(HoldRow))

    def _holds(self, query: Any) -> list[Hold]:
        return [
            Hold(r.artifact_id, r.environment, r.reason, r.actor, r.created_at) for r in self._s.execute(query).scalars()
        ]


_PART = 5000  # ids per IN (...): well under every database's limit on parameters


def _parts(ids: Collection[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + _PART] for i in range(0, len(ordered), _PART)]


def _named_containing(query: Any, text: str) -> Any:
    """``query`` (joined to packages) narrowed to the packages whose name contains ``text``, any case."""
    if not text:
        return query
    return query.where(func.lower(PackageRow.name).contains(text.lower(), autoescape=True))


def _raise_head(
    session: Session,
    table: Any,
    keys: dict[str, Any],
    values: dict[str, Any],
    newer: Callable[[Any, Any], Any],
) -> None:
    """Insert the head row of ``keys``, or move it to ``values`` when ``newer(head, new)`` holds: one
    statement, so concurrent writers never move a head backwards."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**keys, **values)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_=values, where=newer(table.__table__.c, statement.excluded)
    )
    session.execute(statement)
