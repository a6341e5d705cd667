"""``packages.generation``: bumped inside the unit of work of every change to what a registry
shows of a package, by the adapters that make the change, so no use case can forget it."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hoist.metadata.sql.tables import ArtifactRow, PackageRow


def bump_package(session: Session, package_id: int) -> None:
    session.execute(update(PackageRow).where(PackageRow.id == package_id).values(generation=PackageRow.generation + 1))


def bump_artifact(session: Session, artifact_id: int) -> None:
    owner = select(ArtifactRow.package_id).where(ArtifactRow.id == artifact_id).scalar_subquery()
    session.execute(update(PackageRow).where(PackageRow.id == owner).values(generation=PackageRow.generation + 1))


def generation(session: Session, package: str) -> int | None:
    """The package's generation, None when no such package exists."""
    found: int | None = session.execute(select(PackageRow.generation).where(PackageRow.name == package)).scalar()
    return found
