"""SQL implementation of what is known of blobs beyond their bytes, and of uploads in progress."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Result, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hoist.domain.digests import Digest
from hoist.domain.ports import BlobState, UploadRecord
from hoist.metadata.sql.tables import BlobStateRow, BlobUploadRow, QuarantinedBlobRow


def _count(result: Result[Any]) -> int:
    """The rows an INSERT, UPDATE or DELETE changed."""
    return int(getattr(result, "rowcount", 0))


class SqlBlobStates:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _insert(self) -> type[postgresql.Insert] | type[sqlite.Insert]:
        return postgresql.Insert if self._s.get_bind().dialect.name == "postgresql" else sqlite.Insert

    def get(self, digest: Digest) -> BlobState | None:
        row = self._s.scalars(
            select(BlobStateRow).where(BlobStateRow.digest == str(digest)).execution_options(populate_existing=True)
        ).one_or_none()
        return None if row is None else BlobState(digest, row.touched_at, row.corrupt_at)

    def touch(self, digest: Digest, *, now: datetime) -> None:
        insert = self._insert()(BlobStateRow).values(digest=str(digest), touched_at=now)
        self._s.execute(insert.on_conflict_do_update(index_elements=["digest"], set_={"touched_at": now}))

    def adopt(self, digests: Iterable[Digest], *, now: datetime) -> int:
        made = 0
        for digest in digests:
            insert = self._insert()(BlobStateRow).values(digest=str(digest), touched_at=now)
            made += len(self._s.execute(insert.on_conflict_do_nothing().returning(BlobStateRow.digest)).all())
        return made

    def touched(self) -> Mapping[Digest, datetime]:
        rows = self._s.execute(select(BlobStateRow.digest, BlobStateRow.touched_at))
        return {Digest.parse(digest): at for digest, at in rows}

    def lock_untouched(self, digest: Digest, *, since: datetime) -> bool:
        touched = self._s.execute(
            select(BlobStateRow.touched_at).where(BlobStateRow.digest == str(digest)).with_for_update()
        ).scalar_one_or_none()
        return touched is not None and touched < since

    def forget(self, digest: Digest) -> None:
        self._s.execute(delete(BlobStateRow).where(BlobStateRow.digest == str(digest)))

    def mark_corrupt(self, digest: Digest, *, now: datetime) -> None:
        insert = self._insert()(BlobStateRow).values(digest=str(digest), touched_at=now, corrupt_at=now)
        self._s.execute(insert.on_conflict_do_update(index_elements=["digest"], set_={"corrupt_at": now}))

    def clear_corrupt(self, digest: Digest) -> bool:
        cleared = self._s.execute(
            update(BlobStateRow)
            .where(BlobStateRow.digest == str(digest), BlobStateRow.corrupt_at.is_not(None))
            .values(corrupt_at=None)
        )
        return bool(_count(cleared))

    def quarantine(self, digest: Digest, *, aside: str, size: int, now: datetime) -> None:
        self._s.add(QuarantinedBlobRow(digest=str(digest), aside=aside, size=size, quarantined_at=now))
        self.forget(digest)

    def quarantined(self) -> Sequence[tuple[Digest, str]]:
        rows = self._s.execute(select(QuarantinedBlobRow.digest, QuarantinedBlobRow.aside).order_by(QuarantinedBlobRow.id))
        return [(Digest.parse(digest), aside) for digest, aside in rows]


def _record(row: BlobUploadRow) -> UploadRecord:
    return UploadRecord(row.id, row.store_key, row.size, row.hash_state, row.started_at, row.updated_at)


class SqlUploads:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, record: UploadRecord) -> None:
        self._s.add(
            BlobUploadRow(
                id=record.upload_id,
                store_key=record.key,
                size=record.size,
                hash_state=record.hash_state,
                started_at=record.started_at,
                updated_at=record.updated_at,
            )
        )
        self._s.flush()

    def get(self, upload_id: str) -> UploadRecord | None:
        row = self._s.scalars(
            select(BlobUploadRow).where(BlobUploadRow.id == upload_id).execution_options(populate_existing=True)
        ).one_or_none()
        return None if row is None else _record(row)

    def advance(self, upload_id: str, *, was: int, size: int, hash_state: bytes | None, now: datetime) -> bool:
        done = self._s.execute(
            update(BlobUploadRow)
            .where(BlobUploadRow.id == upload_id, BlobUploadRow.size == was)
            .values(size=size, hash_state=hash_state, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(_count(done))

    def remove(self, upload_id: str) -> bool:
        return bool(_count(self._s.execute(delete(BlobUploadRow).where(BlobUploadRow.id == upload_id))))

    def every(self) -> Sequence[UploadRecord]:
        return [_record(row) for row in self._s.scalars(select(BlobUploadRow).order_by(BlobUploadRow.id))]

    def idle(self, since: datetime) -> Sequence[UploadRecord]:
        rows = self._s.scalars(select(BlobUploadRow).where(BlobUploadRow.updated_at < since).order_by(BlobUploadRow.id))
        return [_record(row) for row in rows]
