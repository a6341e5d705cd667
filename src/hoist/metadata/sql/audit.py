"""The audit log in SQL: events chained under a lock on the single ``audit_head`` row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hoist.domain.events import CHECKPOINT_MARK, HEAD_MARK, AuditEvent, ChainMark, EventDraft, EventFilter, chain
from hoist.metadata.sql.tables import AuditCheckpointRow, AuditEventRow, AuditHeadRow

# ``append_alone``'s statements, written out: an audited download pays ~0.1 ms for them where the
# ORM's unit of work cost ~0.8 ms. The columns are AuditEventRow's; JSON goes in as the ORM's JSON
# type writes it (``null`` for no pipeline), so reading and verifying the chain sees no difference.
_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1{lock}"
_INSERT = """
INSERT INTO audit_events (seq, time, actor, action, subject, package, digest, details, pipeline, prev, hash)
VALUES ({0}, {0}, {0}, {0}, {0}, {0}, {0}, {1}, {1}, {0}, {0})
"""
_COLUMNS = ("seq", "time", "actor", "action", "subject", "package", "digest", "details", "pipeline", "prev", "hash")
_JSON = frozenset({"details", "pipeline"})
_MOVE = "UPDATE audit_head SET seq = {0}, hash = {0} WHERE id = 1"


def _statements(dialect: str) -> tuple[str, str, str]:
    mark, json_mark, lock = ("%s", "%s::json", " FOR UPDATE") if dialect == "postgresql" else ("?", "?", "")
    return _HEAD.format(lock=lock), _INSERT.format(mark, json_mark), _MOVE.format(mark)


def append_alone(writer: Engine, draft: EventDraft, *, now: datetime) -> AuditEvent:
    """``SqlAuditLog.append`` in a transaction of its own, in plain statements (the writer engine
    begins SQLite transactions IMMEDIATE; PostgreSQL locks the head row)."""
    head, insert, move = _statements(writer.dialect.name)
    with writer.begin() as conn:
        seq, prev = conn.exec_driver_sql(head).one()
        event = chain(draft, seq=seq + 1, moment=now, prev=prev)
        row = event.as_dict()
        params = tuple(json.dumps(row[c]) if c in _JSON else row[c] for c in _COLUMNS)
        conn.exec_driver_sql(insert, params)
        conn.exec_driver_sql(move, (event.seq, event.hash))
    return event


class SqlAuditLog:
    def __init__(self, session: Session) -> None:
        self._s = session

    def append(self, draft: EventDraft, *, now: datetime) -> AuditEvent:
        # The head row lock orders concurrent appends (PostgreSQL); SQLite writers are already
        # serialised by BEGIN IMMEDIATE. Services append last in a unit of work, so the lock is
        # held only until the commit that follows.
        head = self._s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one()
        event = chain(draft, seq=head.seq + 1, moment=now, prev=head.hash)
        self._s.add(AuditEventRow(**event.as_dict()))
        head.seq, head.hash = event.seq, event.hash
        self._s.flush()
        return event

    def events(
        self,
        *,
        after: int = 0,
        limit: int | None = None,
        package: str | None = None,
        subject: str | None = None,
    ) -> Sequence[AuditEvent]:
        query = select(AuditEventRow).where(AuditEventRow.seq > after).order_by(AuditEventRow.seq)
        if package is not None:
            query = query.where(AuditEventRow.package == package)
        if subject is not None:
            query = query.where(AuditEventRow.subject == subject)
        if limit is not None:
            query = query.limit(limit)
        return [_record(r) for r in self._s.execute(query).scalars()]

    def search(self, where: EventFilter, *, before: int | None = None, limit: int) -> Sequence[AuditEvent]:
        e = AuditEventRow
        query = select(e).order_by(e.seq.desc()).limit(limit)
        if before is not None:
            query = query.where(e.seq < before)
        for column, wanted in ((e.actor, where.actor), (e.action, where.action), (e.package, where.package)):
            if wanted is not None:
                query = query.where(column == wanted)
        if where.environment is not None:
            query = query.where(e.details["environment"].as_string() == where.environment)
        if where.since is not None:
            query = query.where(e.time >= where.since)
        if where.until is not None:
            query = query.where(e.time < where.until)
        return [_record(r) for r in self._s.execute(query).scalars()]

    def head(self) -> ChainMark:
        row = self._s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1)).scalar_one()
        return ChainMark(HEAD_MARK, row.seq, row.hash)

    def record_checkpoint(self, seq: int, hash: str, *, now: datetime) -> None:
        if self._s.get(AuditCheckpointRow, seq) is None:
            self._s.add(AuditCheckpointRow(seq=seq, hash=hash, signed_at=now))
            self._s.flush()

    def latest_checkpoint(self) -> ChainMark | None:
        query = select(AuditCheckpointRow).order_by(AuditCheckpointRow.seq.desc()).limit(1)
        row = self._s.execute(query).scalar()
        return ChainMark(CHECKPOINT_MARK, row.seq, row.hash) if row else None


def _record(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        time=row.time,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        package=row.package,
        digest=row.digest,
        details=dict(row.details or {}),
        pipeline=dict(row.pipeline) if row.pipeline else None,
        prev=row.prev,
        hash=row.hash,
    )
