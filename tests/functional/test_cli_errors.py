"""How the CLI prints what went wrong: once, prefixed ``error:``, never as a traceback."""

from __future__ import annotations

from click.testing import CliRunner, Result
from sqlalchemy import text

from hoist.cli.context import Cli
from hoist.cli.exits import INTEGRITY, UNAUTHENTICATED, USAGE
from hoist.cli.main import cli
from hoist.client import HoistClient


def _run(client: HoistClient, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), input=input, catch_exceptions=False)


def test_a_throttled_login_says_when_to_retry_without_a_traceback(client_as) -> None:  # type: ignore[no-untyped-def]
    nobody = client_as("ci-robot", ["role:ci"])
    for _ in range(5):
        assert _run(nobody, "login", "--username", "ana", "--password-stdin", input="wrong\n").exit_code == UNAUTHENTICATED
    throttled = _run(nobody, "login", "--username", "ana", "--password-stdin", input="wrong\n")
    assert throttled.exit_code == UNAUTHENTICATED
    assert throttled.stderr.startswith("error: too many failed logins: try again in ")
    assert throttled.stderr.count("error:") == 1 and "Traceback" not in throttled.output


def test_a_broken_audit_chain_is_reported_once_with_one_prefix(client_as, metadata, tmp_path) -> None:  # type: ignore[no-untyped-def]
    artifact = tmp_path / "shop-api.tgz"
    artifact.write_bytes(b"release bytes")
    assert _run(client_as("ci-robot", ["role:ci"]), "push", "shop-api", str(artifact), "--version", "1.0.0").exit_code == 0
    with metadata.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET subject = 'forged' WHERE seq = 1"))
    result = _run(client_as("auditor", ["role:auditor"]), "audit", "verify")
    assert result.exit_code == INTEGRITY
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: audit chain broken at event 1: "), result.stderr


def test_usage_errors_keep_exit_2_and_the_same_prefix(client_as) -> None:  # type: ignore[no-untyped-def]
    viewer = client_as("viewer", ["role:viewer"])
    for args in (["ls", "--no-such-option"], ["--no-such-option", "ls"], ["promote", "shop@1.0.0"], ["no-such-command"]):
        result = _run(viewer, *args)
        assert result.exit_code == USAGE, args
        assert "Error:" not in result.stderr and result.stderr.count("error: ") == 1, result.stderr
