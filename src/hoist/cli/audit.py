"""hoist history, hoist audit verify, hoist audit export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
from rich.table import Table

from hoist.cli.context import Cli, common_options
from hoist.cli.exits import INTEGRITY, Failed
from hoist.domain.events import AuditEvent, verify_chain
from hoist.domain.models import ArtifactRef
from hoist.domain.names import validate_package_name


def describe_details(event: dict[str, object]) -> str:
    details = event.get("details") or {}
    assert isinstance(details, dict)
    parts = [
        f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in details.items()
        if v not in (None, [], {}) and k not in {"problems", "attachment"}
    ]
    problems = details.get("problems")
    if isinstance(problems, list) and problems:
        parts.append("unmet: " + ", ".join(str(p["gate"]) for p in problems if isinstance(p, dict)))
    return " ".join(parts)


@click.command()
@click.argument("ref")
@common_options
def history(cli: Cli, ref: str) -> None:
    """Every recorded event of NAME, or of one version NAME@VERSION."""
    if "@" in ref:
        ArtifactRef.parse(ref)
    else:
        validate_package_name(ref)
    events = cli.client().history(ref)

    def human() -> None:
        if not events:
            cli.out.print(f"no events for {ref}")
            return
        table = Table(box=None, pad_edge=False)
        for col in ("SEQ", "TIME", "ACTOR", "ACTION", "SUBJECT", "DETAILS"):
            table.add_column(col, no_wrap=col != "DETAILS")
        for e in events:
            table.add_row(
                str(e["seq"]),
                e["time"][:19].replace("T", " "),
                e["actor"],
                e["action"],
                e["subject"],
                describe_details(e),
            )
        cli.out.print(table)

    cli.emit(events, human)


@click.group(name="audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


def _events(cli: Cli) -> Iterator[AuditEvent]:
    for line in cli.client().export_lines():
        yield AuditEvent.from_dict(json.loads(line))


@audit_group.command()
@common_options
def verify(cli: Cli) -> None:
    """Download the whole chain and recompute every link here; name the first broken one."""
    report = verify_chain(_events(cli))
    result = {
        "ok": report.ok,
        "checked": report.checked,
        "head": report.head,
        "broken_at": report.broken_at,
        "reason": report.reason,
    }

    def human() -> None:
        if report.ok:
            cli.out.print(f"audit chain intact: {report.checked} events, head {report.head}")
        else:
            cli.err.print(
                f"[red]audit chain broken at event {report.broken_at}:[/] {report.reason} "
                f"({report.checked} events before it verify)"
            )

    cli.emit(result, human)
    if not report.ok:
        raise Failed(f"audit chain broken at event {report.broken_at}", INTEGRITY)


@audit_group.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@common_options
def export(cli: Cli, fmt: str, output: Path | None) -> None:
    """Export every event, in chain order, as JSON Lines."""
    del fmt  # jsonl is the one format so far
    lines = cli.client().export_lines()
    if output is None:
        for line in lines:
            click.echo(line)
        return
    count = 0
    with output.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
            count += 1
    cli.emit({"events": count, "path": str(output)}, lambda: cli.err.print(f"wrote {count} events to {output}"))


COMMANDS = [history, audit_group]
