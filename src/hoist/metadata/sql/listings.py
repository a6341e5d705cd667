"""SQL implementation of the package views' reads: one statement for a package's versions in a
registry (artifact, placement and manifest together), one for its marks."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from threading import Lock

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hoist.domain.manifests import Manifest, parse_manifest
from hoist.domain.models import MarkKind
from hoist.domain.ports import ListedVersion
from hoist.metadata.sql.generations import bump_artifact, generation
from hoist.metadata.sql.repositories import SqlArtifacts, SqlPlacements
from hoist.metadata.sql.tables import ArtifactRow, ManifestRow, PackageRow, PlacementRow, VersionMarkRow

_PARSED_LIMIT = 8192


class _ParsedManifests:
    """Manifests by digest, parsed once per process: a digest names the same bytes forever, so
    there is nothing to invalidate, only a bound on how many are kept."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, Manifest] = OrderedDict()
        self._lock = Lock()

    def get(self, digest: str, content: bytes, media_type: str) -> Manifest:
        with self._lock:
            found = self._items.get(digest)
            if found is not None:
                self._items.move_to_end(digest)
                return found
        manifest = parse_manifest(content, media_type, digest.partition(":")[0])
        with self._lock:
            self._items[digest] = manifest
            while len(self._items) > _PARSED_LIMIT:
                self._items.popitem(last=False)
        return manifest


_PARSED = _ParsedManifests()


class SqlListings:
    def __init__(self, session: Session) -> None:
        self._s = session

    def versions(self, registry: str, package: str) -> Sequence[ListedVersion]:
        rows = self._s.execute(
            select(ArtifactRow, PackageRow, PlacementRow, ManifestRow.content, ManifestRow.media_type)
            .join(PackageRow, ArtifactRow.package_id == PackageRow.id)
            .join(PlacementRow, PlacementRow.artifact_id == ArtifactRow.id)
            .join(ManifestRow, ManifestRow.digest == ArtifactRow.digest)
            .where(PackageRow.name == package, PlacementRow.registry_name == registry)
        ).all()
        if not rows:
            return []
        marks: dict[int, dict[MarkKind, str]] = {}
        for mark in self._s.execute(
            select(VersionMarkRow).where(
                VersionMarkRow.registry_name == registry,
                VersionMarkRow.artifact_id.in_([artifact.id for artifact, *_ in rows]),
            )
        ).scalars():
            marks.setdefault(mark.artifact_id, {})[MarkKind(mark.kind)] = mark.message
        listed = [
            ListedVersion(
                artifact=SqlArtifacts._record(artifact, pkg),
                placement=SqlPlacements._record(placement),
                manifest=_PARSED.get(artifact.digest, content, media_type),
                marks=marks.get(artifact.id, {}),
            )
            for artifact, pkg, placement, content, media_type in rows
        ]
        return sorted(listed, key=lambda v: v.artifact.version.sort_key)

    def packages(self, registry: str, format: str) -> Sequence[str]:
        found = self._s.execute(
            select(PackageRow.name)
            .distinct()
            .join(ArtifactRow, ArtifactRow.package_id == PackageRow.id)
            .join(PlacementRow, PlacementRow.artifact_id == ArtifactRow.id)
            .where(PackageRow.format == format, PlacementRow.registry_name == registry)
            .order_by(PackageRow.name)
        ).scalars()
        return list(found)

    def mark(self, artifact_id: int, registry: str, kind: MarkKind, message: str, *, actor: str, now: datetime) -> None:
        row = self._s.get(VersionMarkRow, (artifact_id, registry, str(kind)))
        if row is None:
            self._s.add(
                VersionMarkRow(
                    artifact_id=artifact_id,
                    registry_name=registry,
                    kind=str(kind),
                    message=message,
                    actor=actor,
                    created_at=now,
                )
            )
        else:
            row.message, row.actor, row.created_at = message, actor, now
        self._s.flush()
        bump_artifact(self._s, artifact_id)

    def unmark(self, artifact_id: int, registry: str, kind: MarkKind) -> bool:
        result = self._s.execute(
            delete(VersionMarkRow).where(
                VersionMarkRow.artifact_id == artifact_id,
                VersionMarkRow.registry_name == registry,
                VersionMarkRow.kind == str(kind),
            )
        )
        if not getattr(result, "rowcount", 0):
            return False
        bump_artifact(self._s, artifact_id)
        return True

    def generation(self, package: str) -> int | None:
        return generation(self._s, package)
