"""The job queue on PostgreSQL: procrastinate (its schema, installed by migration 0010). Jobs are
deferred on the unit of work's own connection, so they commit or roll back with it; workers take
them with procrastinate's locking (``SELECT … FOR UPDATE SKIP LOCKED``: one attempt of a job runs in
one worker), retry them with its exponential backoff, and defer periodic jobs once per tick across
every worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate.schema import SchemaManager
from psycopg import Connection
from sqlalchemy import text
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

log = logging.getLogger("hoist.jobs")
QUEUE = "hoist"
PRUNE = "hoist.prune"
_STATUSES = {s.value: s for s in JobStatus}


def install_schema(connection: Any) -> None:
    """Procrastinate's tables, types and functions, as the installed version ships them."""
    connection.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def drop_schema(connection: Any) -> None:
    connection.exec_driver_sql(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,"
        " procrastinate_workers CASCADE"
    )
    connection.exec_driver_sql(
        "DO $$ DECLARE f record; BEGIN FOR f IN SELECT oid::regprocedure AS sig FROM pg_proc"
        " WHERE proname LIKE 'procrastinate%%' LOOP EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE'; END LOOP; END $$"
    )
    connection.exec_driver_sql(
        "DROP TYPE IF EXISTS procrastinate_job_event_type, procrastinate_job_status, procrastinate_job_to_defer_v1 CASCADE"
    )


def _deferrer_app() -> procrastinate.App:
    # Deferring on a given connection needs no pool: the app is never opened.
    return procrastinate.App(connector=procrastinate.PsycopgConnector())


_DEFERRER = _deferrer_app()


class ProcrastinateQueue:
    """``JobQueue`` inside a unit of work on PostgreSQL."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _connection(self) -> Connection[Any]:
        raw = self._session.connection().connection.driver_connection
        assert isinstance(raw, Connection)
        return raw

    def enqueue(self, name: str, args: JobArgs, *, key: str | None = None) -> None:
        _DEFERRER.configure_task(name, queue=QUEUE, lock=key, connection=self._connection()).defer(**dict(args))  # type: ignore[arg-type]  # JSON values, as procrastinate takes

    def pending(self, name: str, key: str) -> bool:
        found = self._session.execute(
            text(
                "SELECT 1 FROM procrastinate_jobs WHERE task_name = :name AND lock = :key"
                " AND status IN ('todo', 'doing') LIMIT 1"
            ),
            {"name": name, "key": key},
        ).first()
        return found is not None

    def pending_args(self, name: str) -> list[JobArgs]:
        query = "SELECT args FROM procrastinate_jobs WHERE task_name = :name AND status IN ('todo', 'doing') ORDER BY id"
        return list(self._session.scalars(text(query), {"name": name}))


class ProcrastinateWorker:
    """``JobWorker`` on PostgreSQL: procrastinate's worker, over its own connection pool."""

    def __init__(self, engine: Engine, conninfo: str, retry: Retry = DEFAULT_RETRY) -> None:
        self._engine = engine
        self._conninfo = conninfo
        self._retry = retry

    def work(
        self,
        handlers: Mapping[str, Handler],
        *,
        once: bool,
        every: Mapping[str, timedelta] | None = None,
        stop: threading.Event | None = None,
    ) -> WorkReport:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=self._conninfo))
        strategy = procrastinate.RetryStrategy(
            # procrastinate counts retries, after the first attempt
            max_attempts=self._retry.attempts - 1,
            exponential_wait=self._retry.exponential_wait,
        )
        run = _Run(self._retry, self._record)
        for name, handler in handlers.items():
            app.task(name=name, queue=QUEUE, retry=strategy, pass_context=True)(run.task(name, handler))
        for name, interval in (every or {}).items():
            task = app.tasks[name]
            app.periodic(cron=cron_for(interval), periodic_id=name, lock=name, queueing_lock=name)(task)
        if not once:

            async def prune(timestamp: int) -> None:
                """Daily: procrastinate's own clean-up of jobs that succeeded more than
                ``KEEP_SUCCEEDED`` ago, then the errors of jobs no longer there."""
                del timestamp
                await app.job_manager.delete_old_jobs(nb_hours=int(KEEP_SUCCEEDED.total_seconds()) // 3600, queue=QUEUE)
                await asyncio.to_thread(self._forget_errors)

            task = app.task(name=PRUNE, queue=QUEUE, queueing_lock=PRUNE)(prune)
            app.periodic(cron="17 4 * * *", periodic_id=PRUNE)(task)
        worker_options: dict[str, Any] = {"queues": [QUEUE], "wait": not once, "install_signal_handlers": False}
        if stop is not None and not once:
            _stop_when(stop, app, worker_options)
        else:
            app.run_worker(**worker_options)
        return WorkReport(run.ran, run.failed)

    def status(self, *, limit: int = 50) -> QueueStatus:
        with self._engine.connect() as conn:
            rows = conn.execute(
                text("SELECT status::text, count(*) FROM procrastinate_jobs WHERE queue_name = :q GROUP BY status"),
                {"q": QUEUE},
            )
            counts: dict[JobStatus, int] = {}
            for status, count in rows:
                mapped = _STATUSES.get(status, JobStatus.FAILED)
                counts[mapped] = counts.get(mapped, 0) + int(count)
        return QueueStatus(counts, self._failed(limit=limit))

    def _failed(self, *, limit: int) -> list[JobState]:
        query = (
            "SELECT j.id, j.task_name, j.lock, j.args, j.attempts, r.error, r.failed_at FROM procrastinate_jobs j"
            " LEFT JOIN job_errors r ON r.job_id = j.id WHERE j.queue_name = :q"
            " AND j.status::text NOT IN ('todo', 'doing', 'succeeded') ORDER BY j.id DESC LIMIT :limit"
        )
        with self._engine.connect() as conn:
            rows = conn.execute(text(query), {"q": QUEUE, "limit": limit})
            return [JobState(r[0], r[1], r[2], r[3], JobStatus.FAILED, r[4], r[5], r[6]) for r in rows]

    def _forget_errors(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(text("DELETE FROM job_errors WHERE job_id NOT IN (SELECT id FROM procrastinate_jobs)"))

    def _record(self, job_id: int, error: str) -> None:
        """Keep a job's last error (procrastinate's tables do not) for ``status``."""
        row = {"id": job_id, "error": error, "at": datetime.now(UTC)}
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO job_errors (job_id, error, failed_at) VALUES (:id, :error, :at)"
                    " ON CONFLICT (job_id) DO UPDATE SET error = excluded.error, failed_at = excluded.failed_at"
                ),
                row,
            )


def conninfo(engine: Engine) -> str:
    """The libpq connection string of the engine's database, for procrastinate's own pool."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def cron_for(interval: timedelta) -> str:
    """A cron line for ``interval`` (procrastinate's periodic tasks are cron-driven): whole minutes
    under an hour, whole hours under a day, else daily."""
    minutes = max(1, round(interval.total_seconds() / 60))
    if minutes < 60:
        return f"*/{minutes} * * * *"
    hours = minutes // 60
    return f"0 */{hours} * * *" if hours < 24 else "0 0 * * *"


class _Run:
    """One ``work`` call: the attempts it made and the jobs it failed for good (their last attempt
    raised), counted as they run."""

    def __init__(self, retry: Retry, record: Callable[[int, str], None]) -> None:
        self._retry = retry
        self._record = record
        self.ran = 0
        self.failed: list[JobState] = []

    def task(self, name: str, handler: Handler) -> Any:
        def run(context: procrastinate.JobContext, **args: Any) -> None:
            self.ran += 1
            args.pop("timestamp", None)  # what procrastinate hands a periodic task
            try:
                handler(args)
            except Exception as exc:
                job = context.job
                tried = job.attempts + 1  # procrastinate's count excludes the attempt running now
                log.warning("job %s%s failed (attempt %d)", name, _shown(args), tried, exc_info=True)
                error = f"{type(exc).__name__}: {exc}"
                self._record(job.id or 0, error)
                if tried >= self._retry.attempts:
                    log.error("job %s #%s failed after %d attempt(s): %s", name, job.id, tried, error)
                    self.failed.append(JobState(job.id or 0, name, job.lock, args, JobStatus.FAILED, tried, error))
                raise

        run.__name__ = name.replace(".", "_")
        return run


def _shown(args: JobArgs) -> str:
    return "(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


def _stop_when(stop: threading.Event, app: procrastinate.App, options: dict[str, Any]) -> None:
    """Run the worker until ``stop`` is set (``hoist worker``, until SIGINT or SIGTERM)."""

    async def main() -> None:
        async with app.open_async():
            worker = asyncio.ensure_future(app.run_worker_async(**options))
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    asyncio.run(main())
