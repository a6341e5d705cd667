"""Real servers for end-to-end tests: ``hoist serve`` as its own process, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """hoist serve's defaults, as users run it (blob downloads go through the sendfile server on the
    next port), but for its in-process job worker: tests run the jobs when they choose, ``drain``."""
    data = tmp_path / "data"
    data.mkdir()
    env = server_env(request, data)
    token = new_admin_token()
    with fresh_server(data, env, admin_token=token, args=["--no-worker"]) as url:
        yield Server(url, data, env["HOIST_DATABASE_URL"], env, token)


def drain(server: Server) -> dict[str, Any]:
    """``hoist worker --once`` on the server's database and data folder: the jobs queued so far
    (SBOMs of pushed versions) have run when it returns. Its JSON report."""
    env = {**os.environ, **server.env, "HOIST_DATA_DIR": str(server.data)}
    done = subprocess.run(
        [sys.executable, "-m", "hoist", "worker", "--once", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report
