"""hoist retention plan|apply, trash list|purge, restore, gc, fsck, maintenance run."""

from __future__ import annotations

from typing import Any

import click

from hoist.cli.context import Cli, common_options, escape
from hoist.cli.exits import INTEGRITY, REFUSED, Failed
from hoist.cli.tables import columns


@click.group()
def retention() -> None:
    """Retention: which versions each registry keeps, and why; delete the rest into the trash."""


def _plans_table(cli: Cli, plans: list[dict[str, Any]], *, only_deletions: bool = False) -> None:
    for p in plans:
        cli.out.print(f"registry {p['registry']}")
        table = columns("VERSION", "VERDICT", "WHY", "PLACED")
        for v in p["verdicts"]:
            if only_deletions and v["verdict"] != "delete":
                continue
            style = "red" if v["verdict"] == "delete" else "green" if v["guarantee"] else ""
            table.add_row(
                escape(v["ref"]),
                f"[{style}]{v['verdict']}[/]" if style else v["verdict"],
                escape(v["reason"]),
                v["placed_at"][:10],
            )
        deletions = sum(v["verdict"] == "delete" for v in p["verdicts"])
        cli.out.print(table)
        cli.out.print(f"{deletions} of {len(p['verdicts'])} version(s) would go from {p['registry']}")


@retention.command("plan")
@click.option("--registry", default=None, help="One registry [default: all].")
@common_options
def retention_plan(cli: Cli, registry: str | None) -> None:
    """A dry run: every version with its verdict and the rule or guarantee that decided it."""
    plans = cli.client().retention_plan(registry)
    cli.emit(plans, lambda: _plans_table(cli, plans))


@retention.command("apply")
@click.option("--registry", default=None, help="One registry [default: all].")
@common_options
def retention_apply(cli: Cli, registry: str | None) -> None:
    """Move what the plan deletes into the trash (restorable until purged); each move is audited."""
    applied = cli.client().retention_apply(registry)

    def human() -> None:
        for a in applied:
            for item in a["trashed"]:
                cli.out.print(
                    f"trashed {escape(item['ref'])} from {a['registry']} (item {item['id']}): {escape(item['reason'])}"
                )
            cli.out.print(f"{len(a['trashed'])} version(s) moved to the trash of {a['registry']}")

    cli.emit(applied, human)


@click.group()
def trash() -> None:
    """What retention or hoist delete took out: restorable until purged."""


@trash.command("list")
@click.option("--registry", default=None)
@click.option("--state", type=click.Choice(["trashed", "restored", "purged"]), default=None)
@common_options
def trash_list(cli: Cli, registry: str | None, state: str | None) -> None:
    items = cli.client().trash(registry, state)

    def human() -> None:
        table = columns("ID", "VERSION", "REGISTRY", "STATE", "REASON", "DELETED", "PURGE AFTER")
        for i in items:
            table.add_row(
                str(i["id"]),
                escape(i["ref"] or ""),
                i["registry"],
                i["state"],
                escape(i["reason"]),
                i["deleted_at"][:16],
                i["purge_after"][:16],
            )
        cli.out.print(table)

    cli.emit(items, human)


@trash.command("purge")
@common_options
def trash_purge(cli: Cli) -> None:
    """Purge what has been in the trash longer than its registry keeps it (no restore after this)."""
    items = cli.client().purge_trash()
    cli.emit(items, lambda: cli.out.print(f"purged {len(items)} item(s)"))


@click.command()
@click.argument("item")
@click.option("--registry", default=None, help="With NAME@VERSION: the registry to restore it into.")
@common_options
def restore(cli: Cli, item: str, registry: str | None) -> None:
    """Bring ITEM back from the trash: a trash item id, or NAME@VERSION with --registry."""
    if not item.isdigit() and registry is None:
        raise click.UsageError("restoring NAME@VERSION needs --registry")
    out = cli.client().restore(item, registry)
    cli.emit(out, lambda: cli.out.print(f"restored {escape(out['ref'] or str(out['artifact_id']))} into {out['registry']}"))


def _expired_uploads(report: dict[str, Any], verb: str) -> str:
    return f"{verb} {report['uploads_expired']} expired upload(s), {report['upload_bytes_reclaimed']:,} bytes"


@click.command()
@click.option("--dry-run", is_flag=True, help="Report what would be reclaimed; delete nothing.")
@common_options
def gc(cli: Cli, dry_run: bool) -> None:
    """Garbage collection: delete blobs nothing live needs (mark and sweep; safe during uploads)."""
    out = cli.client().collect_garbage(dry_run=dry_run)

    def human() -> None:
        verb = "would reclaim" if dry_run else "reclaimed"
        cli.out.print(
            f"{verb} {out['bytes_freed']:,} bytes in {out['collected']} blob(s); "
            f"{out['live_blobs']} live blob(s), {out['uploads_in_progress']} upload(s) in progress"
            + (f", {out['kept_after_all']} kept (used while collecting)" if out["kept_after_all"] else "")
        )
        cli.out.print(_expired_uploads(out, verb))

    cli.emit(out, human)


@click.command()
@click.option("--quarantine", is_flag=True, help="Move corrupt blobs aside (they are never served either way).")
@common_options
def fsck(cli: Cli, quarantine: bool) -> None:
    """Re-hash every blob, check every live manifest's references and the audit chain; exit 6 if
    anything is wrong."""
    out = cli.client().fsck(quarantine=quarantine)

    def human() -> None:
        checked = f"{out['blobs_checked']} blob(s), {out['bytes_checked']:,} bytes re-hashed"
        cli.out.print(f"{checked}; {out['manifests_checked']} live manifest(s)")
        for digest in out["corrupt"]:
            moved = " (quarantined)" if digest in out["quarantined"] else " (no longer served)"
            cli.out.print(f"  ✗ corrupt: {digest}{moved}")
        for m in out["missing"]:
            cli.out.print(f"  ✗ missing: {m.get('blob') or m.get('child')}, named by {m['manifest']}")
        for m in out.get("mismatched", []):
            cli.out.print(
                f"  ✗ size: {m['manifest']} {m['descriptor']} declares {m['digest']} to be {m['declared']} bytes,"
                f" stored: {m['stored']}"
            )
        chain = "intact" if out["chain_ok"] else f"broken at event {out['chain_broken_at']}: {out['chain_reason']}"
        cli.out.print(f"audit chain {chain} ({out['chain_checked']} events)")

    cli.emit(out, human)
    if not out["ok"]:
        raise Failed("fsck found problems", INTEGRITY)


@click.group()
def maintenance() -> None:
    """Routine upkeep, for cron or a systemd timer (see the README)."""


@maintenance.command("run")
@click.option("--skip-drill", is_flag=True, help="Skip the rollback drills.")
@common_options
def maintenance_run(cli: Cli, skip_drill: bool) -> None:
    """Retention in every registry, purge of the trash, garbage collection, and a rollback drill in
    every environment; exit 3 or 6 when a rollback target would fail."""
    summary = cli.client().maintain(drill=not skip_drill)
    applied, purged, collected, drills = summary["retention"], summary["purged"], summary["gc"], summary["drills"]

    def human() -> None:
        for a in applied:
            cli.out.print(f"retention {a['registry']}: {len(a['trashed'])} version(s) moved to the trash")
        cli.out.print(f"trash: {len(purged)} item(s) purged")
        cli.out.print(f"gc: {collected['bytes_freed']:,} bytes reclaimed in {collected['collected']} blob(s)")
        cli.out.print(f"gc: {_expired_uploads(collected, 'reclaimed')}")
        for d in drills:
            state = "ready" if d["ready"] else "NOT READY"
            cli.out.print(f"rollback drill {d['environment']}: {state} ({len(d['packages'])} package(s))")

    cli.emit(summary, human)
    failing = [d for d in drills if not d["ready"]]
    if failing:
        code = INTEGRITY if any(d["integrity_failed"] for d in failing) else REFUSED
        raise Failed(f"a rollback target would fail in {', '.join(d['environment'] for d in failing)}", code)


@click.command()
@click.option("--limit", type=int, default=50, show_default=True, help="How many failed jobs to list.")
@common_options
def jobs(cli: Cli, limit: int) -> None:
    """The job queue (SBOM generation, scheduled maintenance): how many wait, run, succeeded, failed,
    and the failed ones with their error. Needs admin or audit."""
    status = cli.client().jobs(limit)

    def human() -> None:
        counts = status["counts"]
        cli.out.print(", ".join(f"{n} {name}" for name, n in counts.items()))
        if status["failed"]:
            table = columns("ID", "JOB", "KEY", "ATTEMPTS", "ERROR")
            for j in status["failed"]:
                table.add_row(
                    str(j["id"]), escape(j["name"]), escape(j["key"] or ""), str(j["attempts"]), escape(j["error"] or "")
                )
            cli.out.print(table)

    cli.emit(status, human)


COMMANDS = [retention, trash, restore, gc, fsck, maintenance, jobs]
