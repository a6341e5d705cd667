"""The OCI distribution-spec conformance suite (github.com/opencontainers/distribution-spec,
``conformance/``, v1.1), ported to Python and run against a real ``hoist serve``.

The Go suite cannot be built here (no Go module proxy), so ``tests/e2e/conformance/`` is our own port
of it: the same four workflows (pull, push, content discovery, content management; a module each),
in the same order, with the same checks and status codes, and here one pytest test per check
(``test_conformance[sqlite-Push/Blob Upload Chunked/...]``) so that a failure names the check.

Like the Go suite's ordered Ginkgo specs, the checks share state (a session URL, the last response)
and run in order: a module fixture runs the whole suite once per database and records each check's
outcome; each test then reports one check. Running the suite whole, in order, keeps the checks
meaningful however pytest-xdist spreads the tests over workers.

The suite's options (its ``OCI_*`` environment variables) are set the way Hoist is configured, in
``conformance/setup.OPTIONS``: the namespace is a repository in ``dev`` (which takes pushes and allows deletes), the
client is a ``developer`` (the least-privileged role that may push and delete there) logging in with
a username and password through the Bearer token flow, as the Go client (reggie) does. Where the Go
suite skips a check on a condition (``RunOnlyIf(...)``), the condition is fixed by Hoist's behaviour,
so the port registers the check that applies and asserts that condition first: nothing is skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from hoist.client import HoistClient
from scripts.demo import fresh_server, new_admin_token
from tests.e2e.conformance import discovery, management, pull, push
from tests.e2e.conformance.setup import OPTIONS
from tests.e2e.conformance.suite import REGISTERED, Check, Suite, TokenAuth
from tests.e2e.conftest import server_env

pytestmark = pytest.mark.slow
MAIN_PORT = "sqlite-without-blob-server"
WORKFLOWS = (pull.PULL, push.PUSH, discovery.DISCOVERY, management.MANAGEMENT)
CHECKS: list[Check] = sorted(REGISTERED, key=lambda c: WORKFLOWS.index(c.workflow))  # stable: in order within each


@pytest.fixture(scope="module", params=["sqlite", "postgresql", MAIN_PORT])
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str | None]]:
    """The whole suite, run once in order against a fresh ``hoist serve``: each check's failure, or
    None. Blob downloads go through the sendfile blob server (a 307), as in production, except in
    the MAIN_PORT run, where the registry's own port serves them (and reads their Range)."""
    data = tmp_path_factory.mktemp("conformance") / "data"
    data.mkdir()
    if request.param == MAIN_PORT:  # the blob server off: the main port serves blobs
        env = {"HOIST_DATABASE_URL": f"sqlite:///{data / 'hoist.db'}", "HOIST_BLOB_PORT": "0"}
    else:  # the default: the blob server on the port after the main one
        env = server_env(request, data)
    admin_token = new_admin_token()
    with fresh_server(data, env, admin_token=admin_token) as url:
        password = uuid.uuid4().hex
        with HoistClient(url, token=admin_token) as admin:
            admin.create_user(OPTIONS["OCI_USERNAME"], password=password, grants=["role:developer"])
        auth = TokenAuth(OPTIONS["OCI_USERNAME"], password)
        with httpx.Client(base_url=url, auth=auth, follow_redirects=True, timeout=60) as http:
            suite = Suite(http)
            results: dict[str, str | None] = {}
            for c in CHECKS:
                try:
                    c.run(suite)
                    results[c.id] = None
                except Exception as exc:  # recorded: the check's own test reports it
                    results[c.id] = f"{type(exc).__name__}: {exc}"
        yield results


assert len({c.id for c in CHECKS}) == len(CHECKS), "two checks share a name"


@pytest.mark.parametrize("check_id", [c.id for c in CHECKS], ids=[c.id for c in CHECKS])
def test_conformance(outcomes: dict[str, str | None], check_id: str) -> None:
    failure = outcomes[check_id]
    assert failure is None, failure
