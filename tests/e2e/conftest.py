"""Real servers for end-to-end tests: ``hoist serve`` as its own process, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from scripts.demo import fresh_server, new_admin_token
from tests.conftest import missing
from tests.postgres import PostgresServer


@dataclass
class Server:
    url: str
    data: Path
    database_url: str
    env: dict[str, str]
    admin_token: str


_numbers = itertools.count(1)


def server_env(request: pytest.FixtureRequest, data: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {"HOIST_DATABASE_URL": f"sqlite:///{data / 'hoist.db'}"}
    pg: PostgresServer | None = request.getfixturevalue("postgres_server")
    if pg is None:
        missing("PostgreSQL server binaries are not installed")
        raise AssertionError("unreachable")
    name = f"e2e{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # empty: hoist serve migrates it
    return {"HOIST_DATABASE_URL": pg.url(name)}


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "data"
    data.mkdir()
    # hoist serve's defaults, as users run it: blob downloads go through the sendfile server on the next port
    env = server_env(request, data)
    token = new_admin_token()
    with fresh_server(data, env, admin_token=token) as url:
        yield Server(url, data, env["HOIST_DATABASE_URL"], env, token)
