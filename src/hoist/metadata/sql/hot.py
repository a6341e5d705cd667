"""``SqlHotReads``: the pull hot paths' reads in plain SQL over a raw DB-API connection per thread.

The ORM costs ~1.5 ms per manifest lookup here (statement construction, identity map, session
begin); these single indexed statements cost tens of microseconds. Each runs on its own (SQLite
autocommit / PostgreSQL autocommit), so each sees one consistent snapshot.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Engine

_VERSION = """
SELECT a.digest FROM artifacts a
JOIN packages p ON p.id = a.package_id
JOIN placements pl ON pl.artifact_id = a.id
WHERE p.name = {0} AND a.version_key = {0} AND pl.registry = {0}
"""
_TAG = """
SELECT t.digest FROM tags t JOIN packages p ON p.id = t.package_id
WHERE p.name = {0} AND t.registry = {0} AND t.name = {0}
"""
_MEMBER = """
SELECT 1 FROM repository_manifests rm JOIN packages p ON p.id = rm.package_id
WHERE p.name = {0} AND rm.registry = {0} AND rm.digest = {0}
"""
_BLOB = """
SELECT 1 FROM repository_blobs rb JOIN packages p ON p.id = rb.package_id
WHERE p.name = {0} AND rb.registry = {0} AND rb.digest = {0}
UNION ALL
SELECT 1 FROM manifest_blobs mb
JOIN repository_manifests rm ON rm.digest = mb.manifest_digest
JOIN packages p ON p.id = rm.package_id
WHERE p.name = {0} AND rm.registry = {0} AND mb.blob_digest = {0}
LIMIT 1
"""
_BLOB_REGISTRIES = """
SELECT rb.registry FROM repository_blobs rb WHERE rb.digest = {0}
UNION
SELECT rm.registry FROM manifest_blobs mb JOIN repository_manifests rm ON rm.digest = mb.manifest_digest
WHERE mb.blob_digest = {0}
UNION
SELECT pl.registry FROM manifest_blobs mb JOIN artifacts a ON a.digest = mb.manifest_digest
JOIN placements pl ON pl.artifact_id = a.id WHERE mb.blob_digest = {0}
"""
_CORRUPT = "SELECT 1 FROM blob_states WHERE digest = {0} AND corrupt_at IS NOT NULL"
_MANIFEST = "SELECT content, media_type FROM manifests WHERE digest = {0}"
_GENERATION = "SELECT generation FROM packages WHERE name = {0}"
_NAMES = """
SELECT 'v', a.version FROM artifacts a
JOIN packages p ON p.id = a.package_id
JOIN placements pl ON pl.artifact_id = a.id
WHERE p.name = {0} AND pl.registry = {0}
UNION ALL
SELECT 't', t.name FROM tags t JOIN packages p ON p.id = t.package_id
WHERE p.name = {0} AND t.registry = {0}
"""


class _Connections:
    """A few DB-API connections of the hot reads' own, outside SQLAlchemy's pool (so that the
    units of work never wait behind them), lent to one thread at a time."""

    def __init__(self, engine: Engine, size: int) -> None:
        self._engine = engine
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def borrow(self) -> Iterator[Any]:
        if not self._slots.acquire(timeout=30):
            raise TimeoutError("no connection for the hot reads within 30 s")
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._open()
            try:
                yield conn
            except Exception:
                conn.close()  # a broken connection (server restart) is not lent again
                raise
            self._idle.put(conn)
        finally:
            self._slots.release()

    def _open(self) -> Any:
        dialect = self._engine.dialect
        cargs, cparams = dialect.create_connect_args(self._engine.url)
        if dialect.name == "sqlite":
            conn = dialect.dbapi.connect(*cargs, **{**cparams, "check_same_thread": False, "timeout": 30})  # type: ignore[union-attr]
            conn.isolation_level = None  # autocommit: each statement its own snapshot
            return conn
        conn = dialect.dbapi.connect(*cargs, **cparams)  # type: ignore[union-attr]
        conn.autocommit = True
        return conn

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class SqlHotReads:
    def __init__(self, engine: Engine, *, connections: int = 8) -> None:
        mark = "%s" if engine.dialect.name == "postgresql" else "?"
        self._sql = {
            name: sql.format(mark)
            for name, sql in (
                ("version", _VERSION),
                ("tag", _TAG),
                ("member", _MEMBER),
                ("blob", _BLOB),
                ("blob_registries", _BLOB_REGISTRIES),
                ("manifest", _MANIFEST),
                ("corrupt", _CORRUPT),
                ("names", _NAMES),
                ("generation", _GENERATION),
            )
        }
        self._connections = _Connections(engine, connections)
        self.local = engine.dialect.name == "sqlite"

    def _rows(self, name: str, *params: str) -> list[tuple[Any, ...]]:
        with self._connections.borrow() as conn:
            cursor = conn.cursor()
            try:
                cursor.execute(self._sql[name], params)
                return list(cursor.fetchall())
            finally:
                cursor.close()

    def close(self) -> None:
        self._connections.close()

    def version_digest(self, registry: str, package: str, version_key: str) -> str | None:
        rows = self._rows("version", package, version_key, registry)
        return str(rows[0][0]) if rows else None

    def tag_digest(self, registry: str, package: str, tag: str) -> str | None:
        rows = self._rows("tag", package, registry, tag)
        return str(rows[0][0]) if rows else None

    def has_manifest(self, registry: str, package: str, digest: str) -> bool:
        return bool(self._rows("member", package, registry, digest))

    def has_blob(self, registry: str, package: str, digest: str) -> bool:
        return bool(self._rows("blob", package, registry, digest, package, registry, digest))

    def blob_corrupt(self, digest: str) -> bool:
        return bool(self._rows("corrupt", digest))

    def blob_registries(self, digest: str) -> set[str]:
        return {str(row[0]) for row in self._rows("blob_registries", digest, digest, digest)}

    def manifest(self, digest: str) -> tuple[bytes, str] | None:
        rows = self._rows("manifest", digest)
        return (bytes(rows[0][0]), str(rows[0][1])) if rows else None

    def names(self, registry: str, package: str) -> tuple[list[str], list[str]]:
        versions: list[str] = []
        tags: list[str] = []
        for kind, name in self._rows("names", package, registry, package, registry):
            (versions if kind == "v" else tags).append(str(name))
        return versions, tags

    def package_generation(self, package: str) -> int | None:
        rows = self._rows("generation", package)
        return int(rows[0][0]) if rows else None
