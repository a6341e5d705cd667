"""The hoist CLI against the in-process app: output for people and for scripts, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hoist.cli.context import Cli
from hoist.cli.exits import CONFLICT, INTEGRITY, NOT_FOUND, REFUSED, USAGE
from hoist.cli.main import cli
from hoist.client import HoistClient


@pytest.fixture
def hoist(client: HoistClient, tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)

    return run


@pytest.fixture
def artifact_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop-api.tgz"
    path.write_bytes(b"release bytes")
    return path


def test_push_ls_pull_for_people_and_scripts(hoist, artifact_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pushed = hoist("push", "shop-api", str(artifact_file), "--version", "1.4.0-SNAPSHOT", "--build", "auto")
    assert pushed.exit_code == 0, pushed.output
    assert "pushed shop-api@1.4.0-SNAPSHOT+1 sha256:" in pushed.output and "ceiling dev" in pushed.output
    listed = json.loads(hoist("ls", "--json").output)
    assert [(a["package"], a["version"]) for a in listed] == [("shop-api", "1.4.0-SNAPSHOT+1")]
    table = hoist("ls", "shop-api").output
    assert "1.4.0-SNAPSHOT+1" in table and "dev" in table
    out = tmp_path / "out"
    pulled = hoist("pull", "shop-api@1.4.0-SNAPSHOT+1", "-o", str(out), "--json")
    assert pulled.exit_code == 0
    assert json.loads(pulled.output)["files"][0]["path"] == str(out / "shop-api.tgz")
    assert (out / "shop-api.tgz").read_bytes() == b"release bytes"


def test_exit_codes_tell_refusals_from_errors(hoist, artifact_file: Path) -> None:  # type: ignore[no-untyped-def]
    hoist("push", "shop-api", str(artifact_file), "--version", "1.0.0-SNAPSHOT")
    refused = hoist("promote", "shop-api@1.0.0-SNAPSHOT", "--to", "prod")
    assert refused.exit_code == REFUSED
    assert "✗ ceiling:" in refused.output and "✗ attestation:unit-tests:" in refused.output
    assert hoist("promote", "shop-api@9.9.9", "--to", "prod").exit_code == NOT_FOUND
    assert hoist("promote", "shop-api@1.0", "--to", "prod").exit_code == USAGE
    assert hoist("push", "../x", str(artifact_file), "--version", "1.0.0").exit_code == USAGE
    assert hoist("push", "shop-api", str(artifact_file), "--version", "1.0.0", "--build", "x").exit_code == USAGE
    hoist("push", "shop-api", str(artifact_file), "--version", "2.0.0")
    other = artifact_file.with_name("other.tgz")
    other.write_bytes(b"other")
    assert hoist("push", "shop-api", str(other), "--version", "2.0.0").exit_code == CONFLICT


def test_json_errors_for_scripts(hoist, artifact_file: Path) -> None:  # type: ignore[no-untyped-def]
    hoist("push", "shop-api", str(artifact_file), "--version", "1.0.0")
    result = hoist("--json", "deploy", "shop-api@1.0.0", "--env", "uat")
    assert result.exit_code == REFUSED
    error = json.loads(result.output)["error"]
    assert error["code"] == "DEPLOYMENT_REFUSED"
    assert [p["gate"] for p in error["details"]["problems"]] == ["previous-environment"]


def test_deploy_exec_runs_the_command_on_verified_files(hoist, artifact_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hoist("push", "shop-api", str(artifact_file), "--version", "1.0.0")
    record = tmp_path / "seen.txt"
    command = f'echo "$HOIST_PACKAGE $HOIST_VERSION $HOIST_ENV $HOIST_DIGEST" > {record}; cat "$HOIST_FILES" >> {record}'
    ok = hoist("deploy", "shop-api@1.0.0", "--env", "dev", "--exec", command, "--json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["status"] == "succeeded"
    seen = record.read_text().splitlines()
    assert seen[0].startswith("shop-api 1.0.0 dev sha256:") and seen[1] == "release bytes"
    failed = hoist("deploy", "shop-api@1.0.0", "--env", "dev", "--exec", "exit 3")
    assert failed.exit_code == 7 and "exit code 3" in failed.output
    statuses = json.loads(hoist("status", "--json").output)
    assert [(s["environment"], s["version"], s["status"]) for s in statuses] == [("dev", "1.0.0", "succeeded")]


def test_rollback_and_history_and_audit(hoist, artifact_file: Path, client_as) -> None:  # type: ignore[no-untyped-def]
    for version in ("1.0.0", "1.1.0"):
        artifact_file.write_bytes(version.encode())
        hoist("push", "shop-api", str(artifact_file), "--version", version)
        assert hoist("deploy", f"shop-api@{version}", "--env", "dev").exit_code == 0
    dry = hoist("rollback", "--env", "dev", "shop-api", "--dry-run")
    assert dry.exit_code == 0 and "would roll back shop-api in dev: 1.1.0" in dry.output
    done = hoist("rollback", "--env", "dev", "shop-api", "--reason", "broken login")
    assert done.exit_code == 0 and "rolled back to shop-api@1.0.0" in done.output
    assert "held back" in done.output
    history = hoist("history", "shop-api").output
    assert "deployment:rollback" in history and "environment:hold" in history
    verified = hoist("audit", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.output)["ok"] is True
    lines = hoist("audit", "export").output.strip().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, len(lines) + 1))


def test_broken_audit_chain_exits_with_integrity(hoist, artifact_file: Path, metadata) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    hoist("push", "shop-api", str(artifact_file), "--version", "1.0.0")
    with metadata.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET subject = 'forged' WHERE seq = 1"))
    result = hoist("audit", "verify")
    assert result.exit_code == INTEGRITY and "broken at event 1" in result.output


def test_attest_with_junit_and_approve(hoist, artifact_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hoist("push", "shop-api", str(artifact_file), "--version", "1.0.0")
    report = tmp_path / "junit.xml"
    report.write_text('<testsuite><testcase name="a"/><testcase name="b"/></testsuite>')
    out = hoist("attest", "shop-api@1.0.0", "--type", "unit-tests", "--junit", str(report))
    assert out.exit_code == 0 and "unit-tests = pass (2 tests, 0 failures, 0 errors)" in out.output
    both = hoist("attest", "shop-api@1.0.0", "--type", "unit-tests", "--junit", str(report), "--result", "pass")
    assert both.exit_code == USAGE
    approved = hoist("approve", "shop-api@1.0.0", "--env", "prod")
    assert approved.exit_code == 0 and "does not count" in approved.output


def test_every_command_is_registered_once_and_loads_by_name() -> None:
    import importlib

    from hoist.cli.main import COMMAND_MODULES, load_command

    defined = {
        command.name: module
        for module in set(COMMAND_MODULES.values())
        for command in importlib.import_module(f"hoist.cli.{module}").COMMANDS
    }
    assert defined == COMMAND_MODULES
    assert all(load_command(name).name == name for name in COMMAND_MODULES)


@pytest.mark.parametrize("argv", [["--help"], ["ls", "--help"], ["push", "--help"], ["--version"]])
def test_starting_the_cli_imports_no_http_client_rich_nor_crypto(argv: list[str]) -> None:
    import subprocess
    import sys

    code = (
        f"import sys; sys.argv = ['hoist', *{argv!r}]\n"
        "from hoist.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('httpx', 'rich', 'cryptography', 'hoist.client', 'hoist.signing') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
