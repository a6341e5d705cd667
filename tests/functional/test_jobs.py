"""The job queue on both databases: queued inside the unit of work (the outbox), retried then failed
and shown, never run twice at once by two workers; SBOM generation off the push, "pending" until it
ran, and the gates that need the SBOM refusing while it is pending."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hoist.app import Services, open_worker
from hoist.cli.exits import REFUSED
from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.jobs import MAINTENANCE, JobArgs, JobStatus, Retry, WorkReport
from hoist.metadata.sql.jobs import SqliteJobWorker
from hoist.metadata.sql.migrate import upgrade
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.base import utcnow
from tests.functional.test_sbom_and_vulnerabilities import hoist, wheel

AT_ONCE = Retry(attempts=3, exponential_wait=0)


@pytest.fixture
def config_text() -> str:
    return """
[registries.dev]
[registries.prod]
direct_push = false
promote_from = ["dev"]
max_severity = "critical"

[ceilings]
release = "prod"
"""


def test_a_job_is_queued_with_its_unit_of_work_or_not_at_all(metadata: SqlMetadataStore, services: Services) -> None:
    class Boom(Exception):
        pass

    def queue_then_fail() -> None:
        with metadata.session() as s:
            s.jobs.enqueue("test.echo", {"n": 1}, key="one")
            raise Boom

    with pytest.raises(Boom):
        queue_then_fail()
    with metadata.reader() as s:
        assert not s.jobs.pending("test.echo", "one")
    ran: list[JobArgs] = []
    with metadata.session() as s:
        s.jobs.enqueue("test.echo", {"n": 2}, key="two")
    with metadata.reader() as s:
        assert s.jobs.pending("test.echo", "two")
    report = open_worker(metadata, utcnow, AT_ONCE).work({"test.echo": ran.append}, once=True)
    assert report.ran == 1 and report.failed == []
    assert ran == [{"n": 2}]
    with metadata.reader() as s:
        assert not s.jobs.pending("test.echo", "two")


def test_a_failing_job_is_retried_then_marked_failed_and_shown_to_auditors(
    metadata: SqlMetadataStore, client_as: Callable[..., HoistClient]
) -> None:
    tries: list[JobArgs] = []

    def fail(args: JobArgs) -> None:
        tries.append(args)
        raise RuntimeError("the scanner is broken")

    with metadata.session() as s:
        s.jobs.enqueue("test.fail", {"n": 7}, key="seven")
    report = open_worker(metadata, utcnow, AT_ONCE).work({"test.fail": fail}, once=True)
    assert len(tries) == 3 and report.ran == 3
    assert [(j.name, j.key, j.attempts, j.status) for j in report.failed] == [("test.fail", "seven", 3, JobStatus.FAILED)]
    status = client_as("olga", ["audit"]).jobs()
    assert status["counts"]["failed"] == 1 and status["pending"] == 0
    assert [(j["name"], j["key"], j["attempts"]) for j in status["failed"]] == [("test.fail", "seven", 3)]
    shown = hoist(client_as("olga", ["audit"]), "jobs")
    assert shown.exit_code == 0 and "1 failed" in shown.output and "RuntimeError: the scanner is broken" in shown.output
    with pytest.raises(e.Denied, match="needs admin or audit"):
        client_as("dana", ["role:developer"]).jobs()


def test_two_workers_never_run_one_job_twice(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        for n in range(24):
            s.jobs.enqueue("test.count", {"n": n})
    seen: list[int] = []
    lock = threading.Lock()

    def count(args: JobArgs) -> None:
        with lock:
            seen.append(int(str(args["n"])))

    reports: list[WorkReport] = []
    workers = [
        threading.Thread(
            target=lambda: reports.append(open_worker(metadata, utcnow, AT_ONCE).work({"test.count": count}, once=True))
        )
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(seen) == list(range(24))
    assert sum(r.ran for r in reports) == 24


def test_the_sbom_is_pending_after_the_push_until_the_job_ran(
    http: httpx.Client, client: HoistClient, tmp_path: Path, drain: Callable[[], WorkReport]
) -> None:
    path = wheel(tmp_path)
    blob = client.upload(path)
    client.publish(package="shop-api", version="1.0.0", files=[{"name": path.name, **blob}])
    assert http.get("/api/v1/artifacts/shop-api@1.0.0").json()["sbom"] == "pending"
    with pytest.raises(e.Conflict, match="SBOM is pending"):
        client.sbom("shop-api@1.0.0")
    before = client.affected("six")  # not silently complete: "pending" names what it cannot answer for yet
    assert before["artifacts"] == [] and before["pending"] == ["shop-api@1.0.0"]
    refused = hoist(client, "vuln", "report", "shop-api@1.0.0", "--fail-on", "critical")
    assert refused.exit_code == REFUSED and "SBOM is pending" in refused.output
    assert drain().ran == 1
    assert http.get("/api/v1/artifacts/shop-api@1.0.0").json()["sbom"] == "present"
    assert b"pkg:pypi/six@1.16.0" in client.sbom("shop-api@1.0.0")
    after = client.affected("six")
    assert [a["package"] for a in after["artifacts"]] == ["shop-api"] and after["pending"] == []
    assert hoist(client, "vuln", "report", "shop-api@1.0.0", "--fail-on", "critical").exit_code == 0


def test_the_vulnerability_gate_refuses_while_the_sbom_is_pending(
    client: HoistClient, tmp_path: Path, drain: Callable[[], WorkReport]
) -> None:
    path = wheel(tmp_path)
    blob = client.upload(path)
    client.publish(package="shop-api", version="1.0.0", files=[{"name": path.name, **blob}])
    with pytest.raises(e.PromotionRefused, match="SBOM is pending") as refused:
        client.promote("shop-api@1.0.0", to="prod")
    assert [p.gate for p in refused.value.problems] == ["vulnerabilities"]
    drain()
    assert client.promote("shop-api@1.0.0", to="prod")["status"] == "promoted"


def test_the_embedded_queue_runs_a_periodic_job_one_interval_after_the_last_and_prunes_old_rows(tmp_path: Path) -> None:
    store = SqlMetadataStore.from_url(f"sqlite:///{tmp_path / 'hoist.db'}")
    upgrade(store.engine)
    now = [datetime(2026, 12, 5, 8, 0, tzinfo=UTC)]
    worker = SqliteJobWorker(store.engine, lambda: now[0], AT_ONCE)
    runs: list[datetime] = []
    handlers = {MAINTENANCE: lambda _args: runs.append(now[0])}
    every = {MAINTENANCE: timedelta(hours=6)}
    assert worker.work(handlers, once=True, every=every).ran == 0  # queued for 14:00
    now[0] += timedelta(hours=5, minutes=59)
    assert worker.work(handlers, once=True, every=every).ran == 0
    now[0] += timedelta(minutes=1)
    assert worker.work(handlers, once=True, every=every).ran == 1  # and the next one queued for 20:00
    assert runs == [datetime(2026, 12, 5, 14, 0, tzinfo=UTC)]
    assert worker.status().counts == {JobStatus.SUCCEEDED: 1, JobStatus.TODO: 1}
    now[0] += timedelta(days=8)  # the succeeded job's row is pruned after a week; the next run is due
    assert worker.work(handlers, once=True, every=every).ran == 1
    assert worker.status().counts == {JobStatus.SUCCEEDED: 1, JobStatus.TODO: 1}
    store.dispose()


def test_jobs_sharing_a_key_never_run_at_once_as_maintenance_needs(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        for n in range(2):
            s.jobs.enqueue(MAINTENANCE, {"n": n}, key=MAINTENANCE)
    started, release = threading.Event(), threading.Event()
    ran: list[JobArgs] = []

    def upkeep(args: JobArgs) -> None:
        ran.append(args)
        if args["n"] == 0:
            started.set()
            release.wait()

    def work() -> WorkReport:
        return open_worker(metadata, utcnow, AT_ONCE).work({MAINTENANCE: upkeep}, once=True)

    first: list[WorkReport] = []
    busy = threading.Thread(target=lambda: first.append(work()))
    busy.start()
    started.wait()
    assert work().ran == 0  # the second job waits for the first
    release.set()
    busy.join()
    assert ran == [{"n": 0}, {"n": 1}] and first[0].ran == 2
