"""SQL implementation of what repositories hold: manifests, blob links and movable tags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from hoist.domain.digests import Digest
from hoist.domain.manifests import Manifest, parse_manifest
from hoist.metadata.sql.generations import bump_package
from hoist.metadata.sql.tables import (
    ManifestRow,
    PackageRow,
    RepositoryBlobRow,
    RepositoryManifestRow,
    TagRow,
)


class SqlRepositories:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _package_id(self, package: str) -> int | None:
        return self._s.execute(select(PackageRow.id).where(PackageRow.name == package)).scalar_one_or_none()

    def _require(self, package: str) -> int:
        package_id = self._package_id(package)
        if package_id is None:
            raise LookupError(f"package {package} must exist before its repository holds anything")
        return package_id

    def add_manifest(self, registry: str, package: str, digest: Digest, *, now: datetime) -> bool:
        package_id = self._require(package)
        if self._has(registry, package_id, digest):
            return False
        self._s.add(RepositoryManifestRow(registry_name=registry, package_id=package_id, digest=str(digest), created_at=now))
        self._s.flush()
        return True

    def _has(self, registry: str, package_id: int, digest: Digest) -> bool:
        return bool(
            self._s.execute(
                select(
                    exists().where(
                        RepositoryManifestRow.registry_name == registry,
                        RepositoryManifestRow.package_id == package_id,
                        RepositoryManifestRow.digest == str(digest),
                    )
                )
            ).scalar()
        )

    def has_manifest(self, registry: str, package: str, digest: Digest) -> bool:
        package_id = self._package_id(package)
        return package_id is not None and self._has(registry, package_id, digest)

    def remove_manifest(self, registry: str, package: str, digest: Digest) -> bool:
        package_id = self._package_id(package)
        if package_id is None:
            return False
        removed = self._s.execute(
            delete(RepositoryManifestRow).where(
                RepositoryManifestRow.registry_name == registry,
                RepositoryManifestRow.package_id == package_id,
                RepositoryManifestRow.digest == str(digest),
            )
        )
        untagged = self._s.execute(
            delete(TagRow).where(
                TagRow.registry_name == registry, TagRow.package_id == package_id, TagRow.digest == str(digest)
            )
        )
        if untagged.rowcount:  # type: ignore[attr-defined]
            bump_package(self._s, package_id)
        return bool(removed.rowcount)  # type: ignore[attr-defined]

    def link_blob(self, registry: str, package: str, digest: Digest, *, now: datetime) -> None:
        package_id = self._require(package)
        if self._s.get(RepositoryBlobRow, (registry, package_id, str(digest))) is None:
            self._s.add(RepositoryBlobRow(registry_name=registry, package_id=package_id, digest=str(digest), created_at=now))
            self._s.flush()

    def unlink_blob(self, registry: str, package: str, digest: Digest) -> bool:
        package_id = self._package_id(package)
        if package_id is None:
            return False
        row = self._s.get(RepositoryBlobRow, (registry, package_id, str(digest)))
        if row is None:
            return False
        self._s.delete(row)
        self._s.flush()
        return True

    def tag(self, registry: str, package: str, name: str) -> Digest | None:
        found = self._s.execute(
            select(TagRow.digest)
            .join(PackageRow, PackageRow.id == TagRow.package_id)
            .where(TagRow.registry_name == registry, PackageRow.name == package, TagRow.name == name)
        ).scalar_one_or_none()
        return Digest.parse(found) if found else None

    def set_tag(self, registry: str, package: str, name: str, digest: Digest, *, actor: str, now: datetime) -> Digest | None:
        package_id = self._require(package)
        row = self._s.execute(
            select(TagRow)
            .where(TagRow.registry_name == registry, TagRow.package_id == package_id, TagRow.name == name)
            .with_for_update()
        ).scalar_one_or_none()
        if row is None:
            self._s.add(
                TagRow(
                    registry_name=registry,
                    package_id=package_id,
                    name=name,
                    digest=str(digest),
                    updated_by=actor,
                    updated_at=now,
                )
            )
            self._s.flush()
            bump_package(self._s, package_id)
            return None
        previous = Digest.parse(row.digest)
        row.digest, row.updated_by, row.updated_at = str(digest), actor, now
        self._s.flush()
        bump_package(self._s, package_id)
        return previous

    def delete_tag(self, registry: str, package: str, name: str) -> Digest | None:
        package_id = self._package_id(package)
        if package_id is None:
            return None
        row = self._s.execute(
            select(TagRow).where(TagRow.registry_name == registry, TagRow.package_id == package_id, TagRow.name == name)
        ).scalar_one_or_none()
        if row is None:
            return None
        self._s.delete(row)
        self._s.flush()
        bump_package(self._s, package_id)
        return Digest.parse(row.digest)

    def tags(self, registry: str, package: str) -> Sequence[tuple[str, Digest]]:
        rows = self._s.execute(
            select(TagRow.name, TagRow.digest)
            .join(PackageRow, PackageRow.id == TagRow.package_id)
            .where(TagRow.registry_name == registry, PackageRow.name == package)
            .order_by(TagRow.name)
        )
        return [(name, Digest.parse(digest)) for name, digest in rows]

    def referrers(self, registry: str, package: str, subject: Digest) -> Sequence[Manifest]:
        rows = self._s.execute(
            select(ManifestRow.content, ManifestRow.media_type, ManifestRow.digest)
            .join(RepositoryManifestRow, RepositoryManifestRow.digest == ManifestRow.digest)
            .join(PackageRow, PackageRow.id == RepositoryManifestRow.package_id)
            .where(
                RepositoryManifestRow.registry_name == registry,
                PackageRow.name == package,
                ManifestRow.subject == str(subject),
            )
            .order_by(RepositoryManifestRow.id)
        )
        return [parse_manifest(content, media_type, digest.split(":")[0]) for content, media_type, digest in rows]

    def repositories(self) -> Sequence[tuple[str, str]]:
        rows = self._s.execute(
            select(RepositoryManifestRow.registry_name, PackageRow.name)
            .join(PackageRow, PackageRow.id == RepositoryManifestRow.package_id)
            .distinct()
        )
        return sorted((registry, package) for registry, package in rows)

    def linked_blobs(self) -> set[Digest]:
        return {Digest.parse(d) for d in self._s.execute(select(RepositoryBlobRow.digest).distinct()).scalars()}
