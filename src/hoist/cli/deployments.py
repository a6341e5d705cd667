"""hoist deploy, rollback, status.

With ``--exec CMD`` the CLI downloads and verifies the artifact into a temporary folder, runs CMD
with ``HOIST_*`` variables describing it, and reports to the server how CMD ended. A deployment
that cannot even start (gates, download, verification) is recorded as failed too.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click

from hoist.cli.artifacts import short
from hoist.cli.context import Cli, common_options, escape
from hoist.cli.exits import INTEGRITY, REFUSED, ExecFailed, Failed
from hoist.cli.tables import columns
from hoist.domain.models import ArtifactRef
from hoist.domain.names import validate_file_name, validate_package_name


def run_deployment(cli: Cli, deployment: dict[str, Any], command: str) -> dict[str, Any]:
    """Fetch and verify the artifact, run ``command`` on it, record the outcome; returns the finished record."""
    client = cli.client()
    ref = f"{deployment['package']}@{deployment['version']}"
    try:
        artifact = client.artifact(f"{deployment['package']}@{deployment['digest']}")
        with tempfile.TemporaryDirectory(prefix="hoist-deploy-") as workdir:
            folder = Path(workdir)
            paths = []
            for f in artifact["files"]:
                target = folder / validate_file_name(f["name"])
                with cli.transfer(f"↓ {f['name']}", f["size"]) as advance:
                    client.download(f["digest"], f["size"], target, advance)
                paths.append(str(target))
            env = {
                **os.environ,
                "HOIST_PACKAGE": deployment["package"],
                "HOIST_NAME": deployment["package"],
                "HOIST_VERSION": deployment["version"],
                "HOIST_DIGEST": deployment["digest"],
                "HOIST_ENV": deployment["environment"],
                "HOIST_ENVIRONMENT": deployment["environment"],
                "HOIST_DEPLOYMENT_ID": str(deployment["id"]),
                "HOIST_DEPLOYMENT_KIND": deployment["kind"],
                "HOIST_PATH": str(folder),
                "HOIST_FILES": os.pathsep.join(paths),
            }
            cli.say(f"running [bold]{command}[/] for {ref} in {deployment['environment']}")
            code = subprocess.run(command, shell=True, env=env, cwd=folder, check=False).returncode  # noqa: S602
    except BaseException:
        client.finish(deployment["id"], succeeded=False)
        raise
    return client.finish(deployment["id"], succeeded=code == 0, exit_code=code)


def _conclude(cli: Cli, record: dict[str, Any], verb: str) -> None:
    ref = f"{record['package']}@{record['version']}"

    def human() -> None:
        if record["status"] == "succeeded":
            cli.out.print(f"{verb} [bold]{ref}[/] {record['digest']} in {record['environment']}")
        else:
            cli.err.print(
                f"[red]{verb} of {ref} in {record['environment']} {record['status']}[/]"
                + (f" (exit code {record['exit_code']})" if record["exit_code"] is not None else "")
            )

    cli.emit(record, human)
    if record["status"] == "failed":
        raise ExecFailed(f"the deployment command failed with exit code {record['exit_code']}")


@click.command()
@click.argument("ref")
@click.option("--env", "environment", required=True, help="The environment to deploy to.")
@click.option(
    "--exec",
    "command",
    default=None,
    help="Deploy by running CMD on the verified files; its exit code decides success.",
)
@click.option("--reason", default=None, help="Why, for the audit trail.")
@common_options
def deploy(cli: Cli, ref: str, environment: str, command: str | None, reason: str | None) -> None:
    """Check ENV's gates and deploy NAME@VERSION, or record a deployment done elsewhere."""
    ArtifactRef.parse(ref)
    record = cli.client().deploy(ref, environment=environment, pending=command is not None, reason=reason)
    if command is not None:
        record = run_deployment(cli, record, command)
    _conclude(cli, record, "deployed")


def run_drill(cli: Cli, environment: str, package: str | None) -> None:
    report = cli.client().drill(environment, package)

    def human() -> None:
        for p in report["packages"]:
            mark = "[green]ready[/]" if p["ready"] else "[red]NOT READY[/]"
            cli.out.print(f"{escape(p['package'])} in {environment}: runs {escape(p['current'])}; rollback {mark}")
            for t in p["targets"]:
                state = "held (skipped)" if t["held"] else "ok" if t["ready"] else "would fail"
                cli.out.print(f"  {escape(t['ref'])} ({short(t['digest'])}): {state}")
                for x in t["problems"]:
                    cli.out.print(f"    ✗ {x['gate']}: {escape(x['message'])}")
        if not report["packages"]:
            cli.out.print(f"nothing runs in {environment}: nothing to drill")

    cli.emit(report, human)
    if not report["ready"]:
        raise Failed(f"a rollback target in {environment} would fail", INTEGRITY if report["integrity_failed"] else REFUSED)


@click.command()
@click.argument("name", required=False)
@click.option("--env", "environment", required=True, help="The environment to roll back.")
@click.option(
    "--drill",
    is_flag=True,
    help="Change nothing: check every version in the rollback window (of NAME, or of every package) is "
    "present, intact and through the gates today; exit 3 (gates) or 6 (integrity) if one is not.",
)
@click.option("--to", "to", default=None, help="The version to return to [default: the previous good one].")
@click.option("--exec", "command", default=None, help="Run CMD on the verified files of the target.")
@click.option("--dry-run", is_flag=True, help="Check the target and say what would happen; change nothing.")
@click.option("--reason", default=None, help="Why, for the audit trail.")
@common_options
def rollback(
    cli: Cli,
    name: str,
    environment: str,
    to: str | None,
    command: str | None,
    dry_run: bool,
    reason: str | None,
    drill: bool,
) -> None:
    """Return NAME in ENV to its previous good version, holding the current one back."""
    if drill:
        run_drill(cli, environment, validate_package_name(name) if name else None)
        return
    if name is None:
        raise click.UsageError("name the package to roll back (or run --drill)")
    validate_package_name(name)
    plan = cli.client().rollback(
        name,
        environment=environment,
        to=to,
        dry_run=dry_run,
        pending=command is not None and not dry_run,
        reason=reason,
    )
    current, target = plan["current"], plan["target"]
    if dry_run or plan["deployment"] is None:

        def human() -> None:
            cli.out.print(
                f"would roll back {name} in {environment}: {current['version']} ({short(current['digest'])}) → "
                f"[bold]{target['version']}[/] ({short(target['digest'])}); the target is present, intact and "
                "passes the gates"
            )

        cli.emit(plan, human)
        return
    record = plan["deployment"]
    if command is not None:
        record = run_deployment(cli, record, command)
    cli.say(f"{current['version']} is held back from {environment} until approved again")
    _conclude(cli, record, "rolled back to")


@click.command()
@click.option("--env", "environment", default=None, help="Only this environment.")
@common_options
def status(cli: Cli, environment: str | None) -> None:
    """Which version of each package runs in each environment, since when, deployed by whom."""
    rows = cli.client().status(environment)

    def human() -> None:
        if not rows:
            cli.out.print("nothing is deployed" + (f" in {environment}" if environment else ""))
            return
        headings = ("ENVIRONMENT", "PACKAGE", "VERSION", "DIGEST", "SINCE", "BY", "HOW")
        table = columns(*headings, no_wrap=headings)
        for d in rows:
            since = (d["finished_at"] or d["started_at"])[:19].replace("T", " ")
            table.add_row(d["environment"], d["package"], d["version"], short(d["digest"]), since, d["actor"], d["kind"])
        cli.out.print(table)

    cli.emit(rows, human)


COMMANDS = [deploy, rollback, status]
