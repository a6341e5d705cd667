"""SQL implementation of the trash: artifact versions retention took out of a registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hoist.domain.digests import Digest
from hoist.domain.retention import TrashItem
from hoist.metadata.sql.tables import TrashRow


def _item(row: TrashRow) -> TrashItem:
    return TrashItem(
        id=row.id,
        artifact_id=row.artifact_id,
        registry=row.registry_name,
        sealed=row.sealed,
        via=row.via,
        placed_by=row.placed_by,
        placed_at=row.placed_at,
        members=tuple(Digest.parse(d) for d in row.members),
        tags=tuple((name, Digest.parse(d)) for name, d in row.tags),
        reason=row.reason,
        deleted_by=row.deleted_by,
        deleted_at=row.deleted_at,
        purge_after=row.purge_after,
        restored_at=row.restored_at,
        restored_by=row.restored_by,
        purged_at=row.purged_at,
    )


class SqlTrash:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, item: TrashItem) -> TrashItem:
        row = TrashRow(
            artifact_id=item.artifact_id,
            registry_name=item.registry,
            sealed=item.sealed,
            via=item.via,
            placed_by=item.placed_by,
            placed_at=item.placed_at,
            members=[str(d) for d in item.members],
            tags=[[name, str(d)] for name, d in item.tags],
            reason=item.reason,
            deleted_by=item.deleted_by,
            deleted_at=item.deleted_at,
            purge_after=item.purge_after,
        )
        self._s.add(row)
        self._s.flush()
        return _item(row)

    def get(self, item_id: int) -> TrashItem | None:
        row = self._s.get(TrashRow, item_id)
        return _item(row) if row is not None else None

    def items(self, *, registry: str | None = None, state: str | None = None) -> Sequence[TrashItem]:
        query = select(TrashRow).order_by(TrashRow.id.desc())
        if registry is not None:
            query = query.where(TrashRow.registry_name == registry)
        if state == "trashed":
            query = query.where(TrashRow.restored_at.is_(None), TrashRow.purged_at.is_(None))
        elif state == "restored":
            query = query.where(TrashRow.restored_at.is_not(None))
        elif state == "purged":
            query = query.where(TrashRow.purged_at.is_not(None))
        return [_item(r) for r in self._s.execute(query).scalars()]

    def restored(self, item_id: int, *, actor: str, now: datetime) -> bool:
        done = self._s.execute(
            update(TrashRow)
            .where(TrashRow.id == item_id, TrashRow.restored_at.is_(None), TrashRow.purged_at.is_(None))
            .values(restored_at=now, restored_by=actor)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def purged(self, item_id: int, *, now: datetime) -> bool:
        done = self._s.execute(
            update(TrashRow)
            .where(TrashRow.id == item_id, TrashRow.restored_at.is_(None), TrashRow.purged_at.is_(None))
            .values(purged_at=now)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def due(self, now: datetime) -> Sequence[TrashItem]:
        query = select(TrashRow).where(
            TrashRow.restored_at.is_(None), TrashRow.purged_at.is_(None), TrashRow.purge_after <= now
        )
        return [_item(r) for r in self._s.execute(query.order_by(TrashRow.id)).scalars()]

    def trashed_artifacts(self) -> set[int]:
        query = select(TrashRow.artifact_id).where(TrashRow.restored_at.is_(None), TrashRow.purged_at.is_(None))
        return set(self._s.execute(query.distinct()).scalars())
