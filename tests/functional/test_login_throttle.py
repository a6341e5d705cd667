"""Failed password logins are counted in the metadata database, so the lockout holds whatever the
number of worker processes or servers: here two apps (as two workers have) over one database, with
one injected clock."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from hoist.app import build_app, build_services
from hoist.config import Settings
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.metadata.sql.tables import LoginFailureRow
from hoist.storage.filesystem import FilesystemBlobStore
from tests.asgi import SyncASGITransport
from tests.conftest import ADMIN
from tests.functional.helpers import Clock

PASSWORD = "correct horse battery staple"


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workers(
    settings: Settings, metadata: SqlMetadataStore, blobs: FilesystemBlobStore, clock: Clock
) -> Iterator[list[httpx.Client]]:
    """Two apps, each with its own services (as each worker process builds), over one database."""
    services = [build_services(settings, metadata, blobs, clock) for _ in range(2)]
    services[0].authentication.bootstrap()
    for name in ("erin", "fred"):
        services[0].administration.create_user(ADMIN, name, password=PASSWORD, grants=["role:viewer"])
    transports = [SyncASGITransport(build_app(settings, s)) for s in services]
    clients = [httpx.Client(transport=t, base_url="http://hoist.test") for t in transports]
    yield clients
    for c in clients:
        c.close()


def failed_rows(metadata: SqlMetadataStore) -> int:
    with metadata.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(LoginFailureRow)).scalar_one()


def test_the_sixth_failure_for_a_name_is_429_on_every_worker_and_stays_so(
    workers: list[httpx.Client], clock: Clock, metadata: SqlMetadataStore
) -> None:
    for attempt in range(5):
        assert workers[attempt % 2].get("/v2/token", headers=basic("erin", "guess")).status_code == 401
    for attempt in range(6):  # the right password too, on either worker, for as long as the window lasts
        answer = workers[attempt % 2].get("/v2/token", headers=basic("erin", PASSWORD))
        assert answer.status_code == 429, (attempt, answer.text)
        assert 0 < int(answer.headers["retry-after"]) <= 301
        clock.now += timedelta(seconds=30)
    assert workers[1].get("/api/v1/whoami", headers=basic("fred", PASSWORD)).status_code == 200  # another name
    clock.now += timedelta(seconds=300)  # the first failure has aged out
    assert workers[1].get("/v2/token", headers=basic("erin", PASSWORD)).status_code == 200
    # old failures do not pile up: a new one prunes what left the window
    assert workers[0].get("/v2/token", headers=basic("fred", "guess")).status_code == 401
    assert failed_rows(metadata) == 2  # fred's name and the address, just now


def test_thirty_failures_from_one_address_lock_it_out_on_every_worker(workers: list[httpx.Client]) -> None:
    for attempt in range(30):
        assert workers[attempt % 2].get("/v2/token", headers=basic(f"n{attempt}", "guess")).status_code == 401
    for worker in workers:
        assert worker.get("/v2/token", headers=basic("fred", PASSWORD)).status_code == 429


def test_a_name_the_database_cannot_store_is_an_unknown_user(workers: list[httpx.Client]) -> None:
    for name in ("nul\x00name", "tab\tname"):
        answer = workers[0].get("/v2/token", headers=basic(name, "guess"))
        assert answer.status_code == 401 and answer.json()["errors"][0]["code"] == "UNAUTHORIZED"
