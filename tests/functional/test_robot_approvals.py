"""An approval is a human decision: a robot (a CI identity) holding ``approve@ENV`` may not approve,
nor so lift a rollback hold, unless the environment says ``robots_may_approve = true``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain import errors as e
from tests.asgi import SyncASGITransport
from tests.functional.helpers import push, release_to


@pytest.fixture
def robot(transport: SyncASGITransport, token_for: Callable[..., str]) -> HoistClient:
    token = token_for("approve-bot", ["role:approver", "approve@dev"], robot=True)
    return HoistClient(
        "http://hoist.test", token=token, http=httpx.Client(transport=transport, base_url="http://hoist.test")
    )


def test_a_robot_approver_neither_approves_prod_nor_lifts_a_hold(
    client: HoistClient, robot: HoistClient, client_as: Callable[..., HoistClient], tmp_path: Path
) -> None:
    ana = client_as("ana", ["role:approver"])
    for version in ("1.4.0", "1.4.1"):
        push(client, tmp_path, version=version, content=version.encode())
        release_to(client, ana, f"shop-api@{version}", "prod")
    client.rollback("shop-api", environment="prod", reason="errors")
    for env in ("prod", "preprod"):
        with pytest.raises(e.Denied) as refused:
            robot.approve("shop-api@1.4.1", environment=env)
        assert f"for {env}: it is a robot, and an approval for {env} is a human decision" in str(refused.value)
        assert f"[environments.{env}] robots_may_approve = true" in str(refused.value)
    with pytest.raises(e.DeploymentRefused) as held:
        client.deploy("shop-api@1.4.1", environment="prod")
    assert [p.gate for p in held.value.problems] == ["hold"]
    approvals = [a for a in client.artifact("shop-api@1.4.1")["attachments"] if a["kind"] == "approval"]
    assert "approve-bot" not in {a["actor"] for a in approvals}
    denials = [ev for ev in map(json.loads, client.export_lines()) if ev["action"] == "access:denied"]
    assert [(d["actor"], d["subject"], d["details"]["asked"]) for d in denials] == [
        ("approve-bot", "shop-api@1.4.1", "approve shop-api@1.4.1 for prod"),
        ("approve-bot", "shop-api@1.4.1", "approve shop-api@1.4.1 for preprod"),
    ]
    assert denials[0]["details"]["reason"].startswith("it is a robot")


ALLOWED = """
[environments.dev]
registry = "dev"
[environments.prod]
registry = "dev"
approvals = 1
robots_may_approve = true
[ceilings]
snapshot = "dev"
rc = "dev"
release = "prod"
"""


@pytest.mark.parametrize("config_text", [ALLOWED])
def test_an_environment_may_let_robots_approve(client: HoistClient, robot: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path)
    assert robot.approve("shop-api@1.4.0", environment="prod")["counts"] is True
    with pytest.raises(e.Denied, match="it is a robot"):
        robot.approve("shop-api@1.4.0", environment="dev")
