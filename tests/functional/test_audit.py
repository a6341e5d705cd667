"""The audit trail over /api/v1: one event per change, chained, exportable, tamper-evident."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.events import AuditEvent, verify_chain
from hoist.metadata.sql.store import SqlMetadataStore
from tests.functional.helpers import push, release_to


def test_every_change_appends_one_event_with_its_actor_and_pipeline(
    http: object, client_as: Callable[[str], HoistClient], tmp_path: Path, token_for: Callable[[str], str]
) -> None:
    from hoist.client import HoistClient as Client
    from hoist.domain.models import Pipeline

    ci = Client(
        "http://hoist.test",
        token=token_for("ci-bot"),
        pipeline=Pipeline("github-actions", "812", project="acme/shop"),
        http=http,
    )  # type: ignore[arg-type]
    push(ci, tmp_path, version="1.0.0")
    release_to(ci, client_as("bob"), "shop-api@1.0.0", "prod")
    events = ci.history("shop-api")
    assert [ev["action"] for ev in events] == [
        "artifact:push",
        "artifact:attest",
        "deployment:succeed",
        "deployment:succeed",
        "artifact:promote",
        "deployment:succeed",
        "artifact:attest",
        "artifact:approve",
        "deployment:succeed",
    ]
    push_event = events[0]
    assert push_event["actor"] == "ci-bot" and push_event["subject"] == "shop-api@1.0.0"
    assert push_event["pipeline"] == {"provider": "github-actions", "id": "812", "project": "acme/shop"}
    assert push_event["digest"].startswith("sha256:")
    assert events[7]["actor"] == "bob"


def test_export_is_the_whole_chain_and_verifies(client: HoistClient, tmp_path: Path) -> None:
    first = client.request("GET", "/audit/verify").json()["checked"]  # the bootstrap and alice's account
    push(client, tmp_path, version="1.0.0")
    push(client, tmp_path, version="1.0.1")
    lines = list(client.export_lines())
    events = [AuditEvent.from_dict(json.loads(line)) for line in lines]
    assert [ev.seq for ev in events] == list(range(1, first + 3))
    assert [ev.action for ev in events[-2:]] == ["artifact:push", "artifact:push"]
    assert verify_chain(events).ok
    server = client.request("GET", "/audit/verify").json()
    assert server == {"ok": True, "checked": first + 2, "head": events[-1].hash, "broken_at": None, "reason": None}
    page = client.request("GET", "/audit/events", params={"after": first + 1}).json()
    assert [ev["seq"] for ev in page] == [first + 2]


def test_tampering_in_the_database_is_detected_and_located(
    client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore
) -> None:
    for v in ("1.0.0", "1.0.1", "1.0.2"):
        push(client, tmp_path, version=v)
    with metadata.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
    report = client.request("GET", "/audit/verify").json()
    assert (report["ok"], report["broken_at"], report["checked"]) == (False, 2, 1)
    local = verify_chain(AuditEvent.from_dict(json.loads(line)) for line in client.export_lines())
    assert (local.ok, local.broken_at) == (False, 2)


def test_deleting_an_event_is_detected(client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore) -> None:
    for v in ("1.0.0", "1.0.1", "1.0.2"):
        push(client, tmp_path, version=v)
    with metadata.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    report = client.request("GET", "/audit/verify").json()
    assert (report["ok"], report["broken_at"]) == (False, 3)


def cut_tail(metadata: SqlMetadataStore, k: int) -> tuple[int, int]:
    """The attack: delete the last ``k`` events straight in the database; returns the seq range cut."""
    with metadata.engine.begin() as conn:
        top = conn.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        conn.execute(text("DELETE FROM audit_events WHERE seq > :keep"), {"keep": top - k})
    return top - k + 1, top


def hoist_as(client: HoistClient, *args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from hoist.cli.context import Cli
    from hoist.cli.main import cli

    out = CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)
    return out.exit_code, out.output


@pytest.mark.parametrize("k", [1, 3])
def test_deleting_the_last_events_is_detected_before_the_next_write(
    client: HoistClient, client_as: Callable[..., HoistClient], tmp_path: Path, metadata: SqlMetadataStore, k: int
) -> None:
    from hoist.cli.exits import INTEGRITY

    auditor = client_as("audrey", ["role:auditor"])
    for v in ("1.0.0", "1.0.1", "1.0.2"):
        push(client, tmp_path, version=v)
    assert auditor.request("GET", "/audit/verify").json()["ok"]
    first, last = cut_tail(metadata, k)
    missing = f"event {last} is" if k == 1 else f"events {first}-{last} are"
    reason = f"{missing} missing: the chain ends at event {first - 1}, the recorded head is event {last}"
    report = auditor.request("GET", "/audit/verify").json()
    assert (report["ok"], report["checked"], report["broken_at"], report["reason"]) == (False, first - 1, first, reason)
    code, output = hoist_as(auditor, "audit", "verify", "--json")
    assert code == INTEGRITY and json.JSONDecoder().raw_decode(output)[0]["reason"] == reason
    code, output = hoist_as(auditor, "audit", "verify")
    assert code == INTEGRITY and f"audit chain broken at event {first}" in output


def test_a_tail_cut_below_the_latest_signed_checkpoint_is_detected_even_with_the_head_reset(
    client: HoistClient, client_as: Callable[..., HoistClient], tmp_path: Path, metadata: SqlMetadataStore
) -> None:
    from hoist.cli.exits import INTEGRITY

    auditor = client_as("audrey", ["role:auditor"])
    push(client, tmp_path, version="1.0.0")
    signed = json.loads(base64.b64decode(json.loads(auditor.audit_checkpoint())["payload"]))["seq"]
    for v in ("1.0.1", "1.0.2"):
        push(client, tmp_path, version=v)
    keep = signed - 1
    with metadata.engine.begin() as conn:  # cut through the checkpoint, and make the head agree
        conn.execute(text("DELETE FROM audit_events WHERE seq > :keep"), {"keep": keep})
        tail = conn.execute(text("SELECT hash FROM audit_events WHERE seq = :keep"), {"keep": keep}).scalar_one()
        conn.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash"), {"seq": keep, "hash": tail})
    reason = f"event {signed} is missing: the chain ends at event {keep}, the latest signed checkpoint is event {signed}"
    report = auditor.request("GET", "/audit/verify").json()
    assert (report["ok"], report["broken_at"], report["reason"]) == (False, signed, reason)
    code, output = hoist_as(auditor, "audit", "verify", "--json")
    assert code == INTEGRITY and json.JSONDecoder().raw_decode(output)[0]["reason"] == reason


def test_history_by_package_and_version(client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0")
    push(client, tmp_path, version="1.0.1")
    assert len(client.history("shop-api")) == 2
    assert [ev["subject"] for ev in client.history("shop-api@1.0.1")] == ["shop-api@1.0.1"]
    with pytest.raises(e.ArtifactNotFound):
        client.history("shop-api@9.0.0")
    with pytest.raises(e.InvalidName):
        client.history("../x")
    assert client.history("unknown") == []


def test_openapi_document_is_served(client: HoistClient) -> None:
    doc = client.request("GET", "/openapi.json").json()
    assert doc["info"]["title"] == "Hoist"
    for path in (
        "/api/v1/uploads",
        "/api/v1/artifacts",
        "/api/v1/promotions",
        "/api/v1/deployments",
        "/api/v1/rollbacks",
        "/api/v1/audit/verify",
        "/api/v1/status",
    ):
        assert path in doc["paths"], path
    error = doc["components"]["schemas"]["ErrorInfo"]
    assert set(error["properties"]) == {"code", "message", "details"}
    assert client.http.get("/api/v1/docs").status_code == 200


def test_policy_is_readable(client: HoistClient) -> None:
    envs = client.environments()
    assert [(x["name"], x["registry"], x["previous"]) for x in envs] == [
        ("dev", "dev", None),
        ("uat", "dev", "dev"),
        ("preprod", "prod", "uat"),
        ("prod", "prod", "preprod"),
    ]
    assert envs[3]["approvals"] == 1 and envs[3]["attestations"] == ["acceptance"]
    registries = {r["name"]: r for r in client.request("GET", "/registries").json()}
    assert registries["prod"]["direct_push"] is False and registries["prod"]["environments"] == ["preprod", "prod"]


def test_a_signed_checkpoint_exposes_a_rewritten_history(
    client: HoistClient, tmp_path: Path, metadata: SqlMetadataStore
) -> None:
    """Someone with write access to the database rewrites event 2 and recomputes every later hash:
    the chain is self-consistent again, but no longer passes through the checkpoint the server signed."""
    from click.testing import CliRunner

    from hoist.cli.context import Cli
    from hoist.cli.exits import INTEGRITY
    from hoist.cli.main import cli
    from hoist.domain.events import GENESIS, event_hash

    def hoist(*args: str) -> tuple[int, str]:
        out = CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)
        return out.exit_code, out.output

    for v in ("1.0.0", "1.0.1", "1.0.2"):
        push(client, tmp_path, version=v)
    saved = tmp_path / "checkpoint.json"
    assert hoist("audit", "checkpoint", "-o", str(saved))[0] == 0
    pinned = tmp_path / "hoist.pub"
    pinned.write_text(client.keys()["server"]["public_key"])
    assert hoist("audit", "verify", "--checkpoint", str(saved), "--server-key", str(pinned))[0] == 0

    events = [AuditEvent.from_dict(json.loads(line)) for line in client.export_lines()]
    prev = GENESIS
    with metadata.engine.begin() as conn:
        for event in events:
            body = event.as_dict()
            if event.seq == 2:
                body["actor"] = "mallory"
            body["prev"] = prev
            forged = AuditEvent.from_dict(body)
            new_hash = event_hash(forged)
            conn.execute(
                text("UPDATE audit_events SET actor = :actor, prev = :prev, hash = :hash WHERE seq = :seq"),
                {"actor": forged.actor, "prev": prev, "hash": new_hash, "seq": event.seq},
            )
            prev = new_hash
        conn.execute(text("UPDATE audit_head SET hash = :hash"), {"hash": prev})
    code, output = hoist("audit", "verify")  # the server recorded the checkpoint it signed
    assert code == INTEGRITY and f"event {events[-1].seq} is not the one the latest signed checkpoint names" in output
    with metadata.engine.begin() as conn:  # an attacker who knows of that table too
        conn.execute(text("UPDATE audit_checkpoints SET hash = :hash"), {"hash": prev})
    assert hoist("audit", "verify")[0] == 0  # self-consistent: what the server holds cannot tell
    code, output = hoist("audit", "verify", "--checkpoint", str(saved), "--server-key", str(pinned))
    assert code == INTEGRITY and f"no longer passes through event {events[-1].seq}" in output

    other = tmp_path / "other"
    assert hoist("key", "generate", "-o", str(other))[0] == 0
    code, output = hoist("audit", "verify", "--checkpoint", str(saved), "--server-key", f"{other}.pub")
    assert code == INTEGRITY and "not signed by the server key" in output
