"""What the people who run Hoist ask of it: /healthz, /readyz, /metrics, and a request id on every
answer that the request's audit events carry too."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest
from alembic import command
from prometheus_client.parser import text_string_to_metric_families

from hoist.domain.requests import REQUEST_ID
from hoist.http import logs
from hoist.metadata.sql.migrate import alembic_config
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.asgi import SyncASGITransport
from tests.functional.oci_helpers import push_blob


@pytest.fixture
def prometheus(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[httpx.Client]:
    """Prometheus's scraper: a robot with no grants at all."""
    headers = {"Authorization": f"Bearer {token_for('prometheus', [], robot=True)}"}
    with httpx.Client(transport=transport, base_url="http://hoist.test", headers=headers) as scraper:
        yield scraper


@pytest.fixture
def dana(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token_for('dana', ['role:developer'])}"}
    with httpx.Client(transport=transport, base_url="http://hoist.test", headers=headers) as developer:
        yield developer


def samples(scraper: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = scraper.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(seen: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return seen.get((name, frozenset(labels.items())), 0.0)


def test_healthz_answers_anyone(anonymous: httpx.Client) -> None:
    answer = anonymous.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_and_the_blob_store_answer(anonymous: httpx.Client) -> None:
    answer = anonymous.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {"database": "ok", "blobs": "ok"}}


def test_readyz_says_the_schema_is_behind_and_what_to_run(anonymous: httpx.Client, metadata: SqlMetadataStore) -> None:
    command.downgrade(alembic_config(metadata.engine), "-1")  # a server started before its upgrade ran
    answer = anonymous.get("/readyz")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "run 'hoist db upgrade'" in answer.json()["checks"]["database"]
    assert answer.json()["checks"]["blobs"] == "ok"


def test_readyz_says_the_blob_store_is_unreachable(anonymous: httpx.Client, blobs: FilesystemBlobStore) -> None:
    root = blobs.root
    moved = root.with_name("gone")
    root.rename(moved)
    root.write_text("not a folder: the volume is not mounted")
    try:
        answer = anonymous.get("/readyz")
    finally:
        root.unlink()
        moved.rename(root)
    assert answer.status_code == 503
    assert answer.json()["checks"]["blobs"].startswith("unreachable")
    assert anonymous.get("/readyz").status_code == 200  # back without a restart


def test_metrics_need_a_token_and_take_one_with_no_grants(anonymous: httpx.Client, prometheus: httpx.Client) -> None:
    refused = anonymous.get("/metrics")
    assert refused.status_code == 401 and "token" in refused.json()["error"]["message"]
    assert prometheus.get("/metrics").status_code == 200


def test_metrics_count_requests_by_route_template_and_status(prometheus: httpx.Client, dana: httpx.Client) -> None:
    before = samples(prometheus)
    for _ in range(3):
        assert dana.get("/api/v1/artifacts/shop-api@9.9.9").status_code == 404
    assert dana.get("/api/v1/health").status_code == 200
    after = samples(prometheus)
    route = "/api/v1/artifacts/{ref:path}"
    counted = "hoist_http_requests_total"
    assert (
        value(after, counted, route=route, method="GET", status="404")
        - value(before, counted, route=route, method="GET", status="404")
        == 3
    )
    assert not any("shop-api" in str(labels) for _, labels in after)  # templates, never paths
    timed = value(after, "hoist_http_request_duration_seconds_count", route=route, method="GET")
    assert timed - value(before, "hoist_http_request_duration_seconds_count", route=route, method="GET") == 3


def test_metrics_count_bytes_in_and_out_and_uploads_in_progress(prometheus: httpx.Client, dana: httpx.Client) -> None:
    before = samples(prometheus)
    data = b"layer bytes " * 1000
    blob = push_blob(dana, "dev/shop/api", data)
    assert dana.get(f"/v2/dev/shop/api/blobs/{blob['digest']}").content == data
    started = dana.post("/v2/dev/shop/api/blobs/uploads/")
    assert started.status_code == 202
    after = samples(prometheus)
    received = sum(
        v - value(before, n, **dict(labels)) for (n, labels), v in after.items() if n == "hoist_http_received_bytes_total"
    )
    sent = sum(
        v - value(before, n, **dict(labels)) for (n, labels), v in after.items() if n == "hoist_http_sent_bytes_total"
    )
    assert received >= len(data) and sent >= len(data)
    assert value(after, "hoist_uploads_in_progress") == 1
    assert ("hoist_jobs", frozenset({("status", "todo")})) in after  # the queue's depth, by status


def test_every_answer_carries_a_request_id_and_the_audit_event_has_it(
    dana: httpx.Client, anonymous: httpx.Client, client_as: Callable[..., object], metadata: SqlMetadataStore
) -> None:
    answers = [anonymous.get("/v2/"), anonymous.get("/api/v1/health"), anonymous.get("/npm/dev/left-pad")]
    ids = [a.headers["x-request-id"] for a in answers]
    assert all(len(i) == 32 for i in ids) and len(set(ids)) == 3
    assert anonymous.get("/healthz", headers={"X-Request-Id": "lb-7f3a.21"}).headers["x-request-id"] == "lb-7f3a.21"
    odd = anonymous.get("/healthz", headers={"X-Request-Id": "<script>" + "x" * 80})
    assert odd.headers["x-request-id"] != "<script>" + "x" * 80 and len(odd.headers["x-request-id"]) == 32
    pushed = dana.post("/v2/dev/shop/api/blobs/uploads/", headers={"X-Request-Id": "ci-run-42"})
    assert pushed.headers["x-request-id"] == "ci-run-42"
    denied = dana.post("/api/v1/users", json={"name": "mallory"}, headers={"X-Request-Id": "who-did-this"})
    assert denied.status_code == 403
    with metadata.reader() as s:
        refusal = [e for e in s.audit.events() if e.action == "access:denied"][-1]
    assert refusal.details["request_id"] == "who-did-this"


@pytest.fixture
def hoist_logger() -> Iterator[logging.Logger]:
    """The "hoist" logger, put back as it was: configure() takes it over for the whole process."""
    logger = logging.getLogger("hoist")
    kept = (list(logger.handlers), logger.level, logger.propagate)
    yield logger
    logger.handlers, logger.propagate = kept[0], kept[2]
    logger.setLevel(kept[1])


def test_log_lines_are_json_with_the_request_id(hoist_logger: logging.Logger) -> None:
    out = io.StringIO()
    logs.configure("json", stream=out)
    token = REQUEST_ID.set("req-1")
    try:
        hoist_logger.getChild("test").warning("disk %s is full", "/data")
    finally:
        REQUEST_ID.reset(token)
    hoist_logger.getChild("test").info("no request")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "disk /data is full" and first["level"] == "warning" and first["request_id"] == "req-1"
    assert "request_id" not in second and first["time"].endswith("Z")
