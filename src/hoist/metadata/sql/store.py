"""``SqlMetadataStore``: the metadata store on SQLAlchemy 2, SQLite (WAL) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from hoist.domain.errors import ConcurrentUpdate
from hoist.domain.events import AuditEvent, EventDraft
from hoist.metadata.sql.audit import SqlAuditLog, append_alone
from hoist.metadata.sql.blobs import SqlBlobStates, SqlUploads
from hoist.metadata.sql.hot import SqlHotReads
from hoist.metadata.sql.inventory import SqlAdvisories, SqlSboms
from hoist.metadata.sql.jobs import SqlJobQueue
from hoist.metadata.sql.listings import SqlListings
from hoist.metadata.sql.oci import SqlRepositories
from hoist.metadata.sql.principals import SqlPrincipals
from hoist.metadata.sql.procrastinate import ProcrastinateQueue
from hoist.metadata.sql.repositories import (
    SqlArtifacts,
    SqlAttachments,
    SqlDeployments,
    SqlHolds,
    SqlManifests,
    SqlPlacements,
)
from hoist.metadata.sql.trash import SqlTrash

_SQLITE_BUSY_TIMEOUT_MS = 30_000


class SqlMetadataSession:
    def __init__(self, session: Session) -> None:
        self.manifests = SqlManifests(session)
        self.artifacts = SqlArtifacts(session)
        self.placements = SqlPlacements(session)
        self.repositories = SqlRepositories(session)
        self.attachments = SqlAttachments(session)
        self.deployments = SqlDeployments(session)
        self.holds = SqlHolds(session)
        self.audit = SqlAuditLog(session)
        self.sboms = SqlSboms(session)
        self.advisories = SqlAdvisories(session)
        self.principals = SqlPrincipals(session)
        self.trash = SqlTrash(session)
        self.listings = SqlListings(session)
        self.blobs = SqlBlobStates(session)
        self.uploads = SqlUploads(session)
        self.jobs = ProcrastinateQueue(session) if session.get_bind().dialect.name == "postgresql" else SqlJobQueue(session)


class SqlMetadataStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(hoist_write=True)
        self._local = threading.local()
        self.hot = SqlHotReads(engine)

    @classmethod
    def from_url(cls, url: str, **engine_options: Any) -> SqlMetadataStore:
        return cls(make_engine(url, **engine_options))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[SqlMetadataSession]:
        # A unit of work inside another on the same thread would wait for the outer one's write lock
        # until the busy timeout: a programming error, reported at once instead.
        if getattr(self._local, "writing", False):
            raise RuntimeError("a metadata unit of work was opened inside another one on the same thread")
        self._local.writing = True
        try:
            with _translated(), Session(self._writer, expire_on_commit=False) as session, session.begin():
                yield SqlMetadataSession(session)
        finally:
            self._local.writing = False

    def append_alone(self, draft: EventDraft, *, now: datetime) -> AuditEvent:
        if getattr(self._local, "writing", False):
            raise RuntimeError("append_alone was called inside a metadata unit of work on the same thread")
        with _translated():
            return append_alone(self._writer, draft, now=now)

    @contextmanager
    def reader(self) -> Iterator[SqlMetadataSession]:
        with _translated(), Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield SqlMetadataSession(session)

    def dispose(self) -> None:
        self.hot.close()
        self.engine.dispose()


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except IntegrityError as exc:
        if _is_unique_violation(exc):
            raise ConcurrentUpdate(f"another change got there first: {exc.orig}") from exc
        raise
    except OperationalError as exc:
        if _is_retryable(exc):
            raise ConcurrentUpdate(f"the database is busy: {exc.orig}") from exc
        raise


def _is_unique_violation(exc: DBAPIError) -> bool:
    return "unique constraint" in str(exc.orig).lower() or getattr(exc.orig, "sqlstate", None) == "23505"


def _is_retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return "database is locked" in text or sqlstate in {"40001", "40P01"}


def make_engine(url: str, **options: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **options)
        _configure_sqlite(engine)
        return engine
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, pool_pre_ping=True, **options)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN until the first write, which lets two
    # writers deadlock on the read-to-write upgrade. Take control: writers begin IMMEDIATE, so
    # they queue on the busy timeout instead (the SQLAlchemy "Serializable isolation" recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("hoist_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
