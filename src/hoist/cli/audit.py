"""hoist history, hoist audit verify, hoist audit export."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from hoist.cli.context import Cli, common_options
from hoist.cli.exits import INTEGRITY, Failed
from hoist.cli.tables import columns
from hoist.domain.attestations import CHECKPOINT
from hoist.domain.errors import InvalidInput
from hoist.domain.events import AuditEvent, ChainMark, verify_chain
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
        table = columns(
            "SEQ", "TIME", "ACTOR", "ACTION", "SUBJECT", "DETAILS", no_wrap={"SEQ", "TIME", "ACTOR", "ACTION", "SUBJECT"}
        )
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


@audit_group.command()
@click.option(
    "--checkpoint",
    "checkpoints",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A checkpoint saved earlier with `hoist audit checkpoint`: the chain must still pass through it.",
)
@click.option(
    "--server-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The server's public key (PEM) the checkpoints must be signed with [default: the one it publishes].",
)
@common_options
def verify(cli: Cli, checkpoints: tuple[Path, ...], server_key: Path | None) -> None:
    """Download the whole chain and recompute every link here; name the first broken one. With
    --checkpoint, also prove the history up to each signed checkpoint was not rewritten."""
    pinned = server_key.read_bytes() if server_key else None
    if checkpoints and pinned is None:
        pinned = cli.client().keys()["server"]["public_key"].encode()
    saved = {p: read_checkpoint(p.read_bytes(), pinned or b"") for p in checkpoints}
    server_marks, lines = cli.client().audit_chain()
    files = {p: ChainMark(f"checkpoint {p}", m["seq"], m["head"]) for p, m in saved.items()}
    wanted, seen = {m.seq for m in files.values()}, dict[int, str]()

    def recording() -> Iterator[AuditEvent]:
        for line in lines:
            event = AuditEvent.from_dict(json.loads(line))
            if event.seq in wanted:
                seen[event.seq] = event.hash
            yield event

    report = verify_chain(recording(), [*server_marks, *files.values()])
    held = {p: seen.get(m.seq) == m.hash for p, m in files.items()}
    problems = [
        f"{path}: the chain no longer passes through event {m.seq} with hash {m.hash}"
        for path, m in files.items()
        if not held[path]
    ]
    ok = report.ok and not problems
    result = {
        "ok": ok,
        "checked": report.checked,
        "head": report.head,
        "broken_at": report.broken_at,
        "reason": report.reason,
        "checkpoints": [{"file": str(p), "seq": m.seq, "ok": held[p]} for p, m in files.items()],
    }

    def human() -> None:
        if report.ok:
            cli.out.print(f"audit chain intact: {report.checked} events, head {report.head}")
        for path, m in saved.items():
            if held[path]:
                cli.out.print(f"checkpoint of event {m['seq']} ({m['time']}) holds")

    cli.emit(result, human)
    if not ok:  # what failed is said once, by the error line
        broken = [
            f"audit chain broken at event {report.broken_at}: {report.reason} ({report.checked} events before it verify)"
        ]
        if report.ok:
            broken = []
        raise Failed("; ".join([*broken, *problems]), INTEGRITY)


@audit_group.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Where to keep it.")
@common_options
def checkpoint(cli: Cli, output: Path) -> None:
    """Save a checkpoint of the chain's head, signed by the server; keep it outside the server."""
    envelope = cli.client().audit_checkpoint()
    mark = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    output.write_bytes(envelope)

    def human() -> None:
        cli.out.print(f"checkpoint of event {mark['seq']} (head {mark['head']}) written to {output}")

    cli.emit(mark, human)


def read_checkpoint(envelope: bytes, server_key: bytes) -> dict[str, Any]:
    """A checkpoint's content, once its signature verifies with the server key."""
    from hoist.signing import dsse
    from hoist.signing import keys as k

    opened = dsse.open_envelope(envelope, {"server": k.load_public(server_key)})
    if opened.payload_type != CHECKPOINT:
        raise InvalidInput("not a Hoist audit checkpoint")
    if opened.key is None:
        raise Failed("the checkpoint is not signed by the server key", INTEGRITY)
    mark: dict[str, Any] = json.loads(opened.payload)
    return mark


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
