"""Operations against a real ``hoist serve`` with two worker processes: /metrics sums what every
worker counted (whichever one answers the scrape), /readyz answers, the log is JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hoist.client import HoistClient
from scripts.demo import fresh_server, new_admin_token

pytestmark = pytest.mark.slow


def healthz_count(url: str, token: str) -> float:
    text = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hoist_http_requests_total" and s.labels["route"] == "/healthz"
    )


def test_metrics_are_summed_over_the_workers_and_the_log_is_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    admin = new_admin_token()
    env = {"HOIST_DATABASE_URL": f"sqlite:///{data / 'hoist.db'}", "HOIST_WORKERS": "2"}
    with fresh_server(data, env, admin_token=admin) as url:
        with HoistClient(url, token=admin) as client:
            client.create_user("prometheus", robot=True)
            token = client.create_token("prometheus", description="scrape")["token"]
        for _ in range(40):  # a new connection each: the kernel spreads them over both workers
            assert httpx.get(f"{url}/healthz", headers={"Connection": "close"}).status_code == 200
        # every scrape sees all 40, whichever worker answers it (one worker alone holds about half)
        assert {healthz_count(url, token) for _ in range(6)} == {40}
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "blobs": "ok"}
        assert httpx.get(f"{url}/metrics").status_code == 401
        refused = httpx.get(f"{url}/api/v1/users", headers={"Authorization": "Bearer hoist_wrong", "X-Request-Id": "e2e-1"})
        assert refused.status_code == 401 and refused.headers["x-request-id"] == "e2e-1"
    lines = [line for line in (data / "server.log").read_text().splitlines() if line.startswith("{")]
    assert lines, "no JSON log line"
    assert all({"time", "level", "logger", "message"} <= json.loads(line).keys() for line in lines)
