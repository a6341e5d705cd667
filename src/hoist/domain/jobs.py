"""Work off the request path: named jobs with JSON arguments, queued inside the unit of work that
needs them (``MetadataSession.jobs``, the outbox) and run by a worker (``JobWorker``): ``hoist
worker`` (``hoist serve`` starts one of its own). Failed attempts are retried with backoff, then the job is
marked failed and stays visible (``hoist jobs``)."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

JsonValue = str | int | float | bool | None | Sequence["JsonValue"] | Mapping[str, "JsonValue"]
JobArgs = Mapping[str, JsonValue]
Handler = Callable[[JobArgs], None]

KEEP_SUCCEEDED = timedelta(days=7)  # then a succeeded job's row is deleted (failed ones stay until looked at)
SBOM = "sbom.generate"  # args: package, digest; key: the digest
MAINTENANCE = "maintenance"  # retention, purge, gc, drills; key: "maintenance" (one at a time)


class JobStatus(enum.StrEnum):
    TODO = "todo"
    DOING = "doing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Retry:
    """A failing job is tried ``attempts`` times in all; after its n-th failed try it waits
    ``exponential_wait ** n`` seconds (procrastinate's formula: 4 s, 16 s, 64 s, 256 s with the
    defaults; 0: at once, for tests and drains)."""

    attempts: int = 5
    exponential_wait: int = 4

    def delay(self, tried: int) -> timedelta:
        return timedelta(seconds=self.exponential_wait**tried) if self.exponential_wait else timedelta(0)


DEFAULT_RETRY = Retry()


@dataclass(frozen=True, slots=True)
class JobState:
    id: int
    name: str
    key: str | None
    args: JobArgs
    status: JobStatus
    attempts: int
    error: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueueStatus:
    counts: Mapping[JobStatus, int]
    failed: Sequence[JobState]  # the most recent first

    @property
    def pending(self) -> int:
        return self.counts.get(JobStatus.TODO, 0) + self.counts.get(JobStatus.DOING, 0)


@dataclass(frozen=True, slots=True)
class WorkReport:
    ran: int = 0  # attempts made
    failed: Sequence[JobState] = field(default_factory=tuple)  # jobs this run marked failed for good


class JobWorker(Protocol):
    """Runs queued jobs: one attempt of a job at a time across every worker of the database."""

    def work(
        self,
        handlers: Mapping[str, Handler],
        *,
        once: bool,
        every: Mapping[str, timedelta] | None = None,
        stop: threading.Event | None = None,
    ) -> WorkReport:
        """``once``: run what is due now (retries without backoff included) and return; else run
        until ``stop`` is set. Each job of ``every`` (no arguments, keyed by its name) is queued one
        interval ahead whenever none of it is pending."""
        ...

    def status(self, *, limit: int = 50) -> QueueStatus: ...
