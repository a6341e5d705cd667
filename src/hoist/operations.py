"""What the server tells the people who run it, assembled from the parts the app is built of: the
readiness checks behind ``/readyz``, the gauges ``/metrics`` reads when scraped, and the database
pool's connections counted as they are checked out and in."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import event
from sqlalchemy.engine import Engine

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobNotFound
from hoist.domain.jobs import JobStatus
from hoist.domain.ports import BlobStore
from hoist.http import metrics
from hoist.metadata.sql.migrate import current_revision, head_revision
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.jobs import JobService
from hoist.services.uploads import UploadService

_NOTHING = Digest.of(b"")  # asked for, to see the store answer; held or not, either answer is fine


class Readiness:
    """Whether this server can serve: each part's problem, or None."""

    def __init__(self, metadata: SqlMetadataStore, blobs: BlobStore) -> None:
        self._engine = metadata.engine
        self._blobs = blobs
        self._head = head_revision(metadata.engine)

    def __call__(self) -> Mapping[str, str | None]:
        return {"database": self._database(), "blobs": self._store()}

    def _database(self) -> str | None:
        try:
            at = current_revision(self._engine)
        except Exception as exc:  # any failure to reach it is the answer
            return f"unreachable: {type(exc).__name__}"
        return None if at == self._head else f"schema at {at}, not {self._head}: run 'hoist db upgrade'"

    def _store(self) -> str | None:
        try:
            self._blobs.stat(_NOTHING)
        except BlobNotFound:
            return None
        except Exception as exc:  # any failure to reach it is the answer
            return f"unreachable: {type(exc).__name__}"
        return None


def scrape_probes(uploads: UploadService, jobs: JobService) -> list[metrics.Probe]:
    return [
        metrics.Probe(
            "hoist_uploads_in_progress",
            "Uploads started and neither committed nor cancelled yet (resumable ones included), on every server",
            lambda: float(len(uploads.in_progress())),
        ),
        metrics.Probe(
            "hoist_jobs",
            "Jobs of the queue (SBOM generation, maintenance) by status: todo and doing are its depth",
            lambda: _by_status(jobs),
            label="status",
        ),
    ]


def count_connections(engine: Engine) -> None:
    """``hoist_db_connections_in_use`` follows ``engine``'s pool."""
    event.listen(engine, "checkout", lambda *_: metrics.DB_CHECKED_OUT.inc())
    event.listen(engine, "checkin", lambda *_: metrics.DB_CHECKED_OUT.dec())


def _by_status(jobs: JobService) -> dict[str, float]:
    counts = jobs.counts()
    return {str(status): float(counts.get(status, 0)) for status in JobStatus}  # every status, zeros too
