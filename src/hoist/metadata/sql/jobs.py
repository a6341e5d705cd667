"""The job queue of the embedded default (SQLite, one server process): the ``jobs`` table. A job is
inserted by the unit of work that needs it (the outbox); a worker claims one with ``BEGIN IMMEDIATE``
(SQLite's single writer: two claims never take the same row), leased for ``LEASE`` (a worker that died
holding it leaves it to be run again), retried with backoff, then marked failed with its error."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hoist.domain.jobs import (
    DEFAULT_RETRY,
    KEEP_SUCCEEDED,
    Handler,
    JobArgs,
    JobState,
    JobStatus,
    QueueStatus,
    Retry,
    WorkReport,
)
from hoist.metadata.sql.tables import JobRow

log = logging.getLogger("hoist.jobs")
LEASE = timedelta(hours=1)
POLL_SECONDS = 1.0
_PENDING = (JobStatus.TODO.value, JobStatus.DOING.value)


class SqlJobQueue:
    """``JobQueue`` inside a unit of work on SQLite."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def enqueue(self, name: str, args: JobArgs, *, key: str | None = None) -> None:
        self._session.add(JobRow(name=name, key=key, args=dict(args), status=JobStatus.TODO.value, attempts=0))

    def pending(self, name: str, key: str) -> bool:
        query = select(JobRow.id).where(JobRow.name == name, JobRow.key == key, JobRow.status.in_(_PENDING)).limit(1)
        return self._session.scalar(query) is not None

    def pending_args(self, name: str) -> list[JobArgs]:
        query = select(JobRow.args).where(JobRow.name == name, JobRow.status.in_(_PENDING)).order_by(JobRow.id)
        return list(self._session.scalars(query))


class SqliteJobWorker:
    """``JobWorker`` on SQLite: runs jobs in the calling thread."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], retry: Retry = DEFAULT_RETRY) -> None:
        self._engine = engine
        self._writer = engine.execution_options(hoist_write=True)
        self._clock = clock
        self._retry = retry

    def work(
        self,
        handlers: Mapping[str, Handler],
        *,
        once: bool,
        every: Mapping[str, timedelta] | None = None,
        stop: threading.Event | None = None,
    ) -> WorkReport:
        halt = stop or threading.Event()
        ran, failed = 0, []
        pruned: datetime | None = None
        while not halt.is_set():
            if pruned is None or self._clock() - pruned > timedelta(days=1):
                pruned = self._prune()
            self._schedule(every or {})
            job = self._claim(set(handlers))
            if job is None:
                if once:
                    break
                halt.wait(POLL_SECONDS)
                continue
            ran += 1
            try:
                handlers[job.name](job.args)
            except Exception as exc:
                log.warning("job %s #%d failed (attempt %d)", job.name, job.id, job.attempts, exc_info=True)
                if self._failed(job, exc):
                    failed.append(job)
            else:
                self._finish(job.id, JobStatus.SUCCEEDED, None, None)
        return WorkReport(ran, [self._get(j.id) for j in failed])

    def status(self, *, limit: int = 50) -> QueueStatus:
        with Session(self._engine) as s:
            counts = {JobStatus(st): n for st, n in s.execute(select(JobRow.status, func.count()).group_by(JobRow.status))}
            rows = s.scalars(
                select(JobRow).where(JobRow.status == JobStatus.FAILED.value).order_by(JobRow.id.desc()).limit(limit)
            )
            return QueueStatus(counts, [_state(r) for r in rows])

    def _claim(self, names: set[str]) -> JobState | None:
        now = self._clock()
        busy = select(JobRow.key).where(JobRow.status == JobStatus.DOING.value, JobRow.key.is_not(None))
        due = or_(JobRow.run_after.is_(None), JobRow.run_after <= now)
        query = (
            select(JobRow)
            .where(JobRow.name.in_(names), due)
            .where(
                or_(
                    (JobRow.status == JobStatus.TODO.value) & or_(JobRow.key.is_(None), JobRow.key.not_in(busy)),
                    JobRow.status == JobStatus.DOING.value,  # its lease ended: the worker died
                )
            )
            .order_by(JobRow.id)
            .limit(1)
        )
        with Session(self._engine) as s:  # an idle poll reads only: no write lock taken every second
            if s.scalars(query).first() is None:
                return None
        with Session(self._writer) as s, s.begin():
            row = s.scalars(query).first()  # again under the write lock: another worker may have taken it
            if row is None:
                return None
            row.status, row.attempts, row.run_after, row.updated_at = (
                JobStatus.DOING.value,
                row.attempts + 1,
                now + LEASE,
                now,
            )
            return _state(row)

    def _failed(self, job: JobState, exc: Exception) -> bool:
        """Record the failure: retried later, or failed for good (True)."""
        error = "".join(traceback.format_exception_only(exc)).strip()
        if job.attempts < self._retry.attempts:
            self._finish(job.id, JobStatus.TODO, self._clock() + self._retry.delay(job.attempts), error)
            return False
        log.error("job %s #%d failed after %d attempt(s): %s", job.name, job.id, job.attempts, error)
        self._finish(job.id, JobStatus.FAILED, None, error)
        return True

    def _finish(self, job_id: int, status: JobStatus, run_after: datetime | None, error: str | None) -> None:
        with Session(self._writer) as s, s.begin():
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(status=status.value, run_after=run_after, error=error, updated_at=self._clock())
            )

    def _prune(self) -> datetime:
        """Delete the rows of jobs that succeeded more than ``KEEP_SUCCEEDED`` ago."""
        now = self._clock()
        done = (JobRow.status == JobStatus.SUCCEEDED.value) & (JobRow.updated_at < now - KEEP_SUCCEEDED)
        with Session(self._engine) as s:  # the usual case: nothing to delete, read only
            if s.scalar(select(JobRow.id).where(done).limit(1)) is None:
                return now
        with Session(self._writer) as s, s.begin():
            s.execute(delete(JobRow).where(done))
        return now

    def _schedule(self, every: Mapping[str, timedelta]) -> None:
        """Queue each periodic job that has none pending, due one interval from now."""
        for name, interval in every.items():
            with Session(self._engine) as s:
                if SqlJobQueue(s).pending(name, name):  # the usual case: read only
                    continue
            with Session(self._writer) as s, s.begin():
                if not SqlJobQueue(s).pending(name, name):
                    row = JobRow(name=name, key=name, args={}, status=JobStatus.TODO.value, attempts=0)
                    row.run_after = self._clock() + interval
                    s.add(row)

    def _get(self, job_id: int) -> JobState:
        with Session(self._engine) as s:
            row = s.get(JobRow, job_id)
            assert row is not None
            return _state(row)


def _state(row: JobRow) -> JobState:
    args: dict[str, Any] = row.args
    return JobState(row.id, row.name, row.key, args, JobStatus(row.status), row.attempts, row.error, row.updated_at)
