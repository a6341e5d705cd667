"""hoist sbom attach|get|affected, hoist vuln import|report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hoist.cli.context import Cli, common_options, escape
from hoist.cli.exits import REFUSED, Failed
from hoist.domain.advisories import Severity
from hoist.domain.models import ArtifactRef


@click.group()
def sbom() -> None:
    """Software bills of materials: attach, export, and "am I affected?"."""


@sbom.command("attach")
@click.argument("ref")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@common_options
def sbom_attach(cli: Cli, ref: str, document: Path) -> None:
    """Attach a CycloneDX (1.4-1.6) or SPDX 2.3 JSON SBOM to NAME@VERSION; it is validated and indexed."""
    ArtifactRef.parse(ref)
    out = cli.client().attach_sbom(ref, document.read_bytes())

    def human() -> None:
        verb = "attached" if out["created"] else "already attached"
        cli.out.print(
            f"{verb} {out['format']} {out['spec_version']} SBOM to {out['artifact']}: {out['components']} components"
        )

    cli.emit(out, human)


@sbom.command("get")
@click.argument("ref")
@click.option("--spdx", is_flag=True, help="Export as SPDX 2.3 JSON instead of CycloneDX.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to a file.")
@common_options
def sbom_get(cli: Cli, ref: str, spdx: bool, output: Path | None) -> None:
    """Print NAME@VERSION's SBOM (supplied, else generated at push)."""
    ArtifactRef.parse(ref)
    data = cli.client().sbom(ref, format="spdx" if spdx else "cyclonedx")
    if output:
        output.write_bytes(data)
        cli.say(f"wrote {output} ({len(data)} bytes)")
    else:
        sys.stdout.buffer.write(data + (b"" if data.endswith(b"\n") else b"\n"))


@sbom.command("affected")
@click.argument("query")
@click.option("--range", "range_", default=None, help="A version range, e.g. '<2.17.1' or 'vers:maven/>=2.0|<2.17.1'.")
@common_options
def sbom_affected(cli: Cli, query: str, range_: str | None) -> None:
    """Which artifacts contain QUERY (a purl or a package name), and which environments run one now."""
    out = cli.client().affected(query, range=range_)

    def human() -> None:
        if out.get("pending"):
            shown = escape(", ".join(out["pending"][:5]) + (", …" if len(out["pending"]) > 5 else ""))
            cli.out.print(f"[yellow]{len(out['pending'])} version(s) with their SBOM pending are not in this answer yet:[/]")
            cli.out.print(f"  {shown}")
        if not out["artifacts"]:
            cli.out.print(f"no artifact contains {query}" + (f" in {range_}" if range_ else ""))
            return
        for a in out["artifacts"]:
            found = ", ".join(f"{c['name']}@{c['version']}" for c in a["components"])
            cli.out.print(
                f"[bold]{a['package']}@{a['version']}[/] {a['digest'][:19]} in {', '.join(a['registries'])}: {found}"
            )
        for r in out["running"]:
            cli.out.print(f"  [red]running[/] in {r['environment']}: {r['package']}@{r['version']}")
        cli.out.print(f"{len(out['artifacts'])} artifact(s), {len(out['running'])} running deployment(s)")

    cli.emit(out, human)


@click.group()
def vuln() -> None:
    """Known vulnerabilities: OSV advisories imported offline, matched against SBOMs."""


@vuln.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@common_options
def vuln_import(cli: Cli, files: tuple[Path, ...]) -> None:
    """Import OSV records from FILES: .json (a record or a list) or .zip (e.g. osv.dev's all.zip)."""
    client = cli.client()
    results = [{"file": str(f), **client.import_advisories(f.read_bytes(), filename=f.name)} for f in files]

    def human() -> None:
        for r in results:
            cli.out.print(
                f"{r['file']}: {r['created']} new, {r['updated']} updated, {r['unchanged']} unchanged ({r['total']} known)"
            )

    cli.emit(results, human)


@vuln.command("report")
@click.argument("ref")
@click.option("--fail-on", type=click.Choice([s.name.lower() for s in Severity]), default=None, help="Exit 3 at or above.")
@common_options
def vuln_report(cli: Cli, ref: str, fail_on: str | None) -> None:
    """Known vulnerabilities in NAME@VERSION's components."""
    ArtifactRef.parse(ref)
    out = cli.client().vulnerabilities(ref)

    def human() -> None:
        if out.get("sbom") == "pending":
            cli.out.print(f"{out['artifact']}'s SBOM is pending (being generated): nothing to match yet")
        elif not out["sboms"]:
            cli.out.print(f"{out['artifact']} has no SBOM: nothing to match")
        for f in out["findings"]:
            c = f["component"]
            cli.out.print(f"[bold]{f['severity']:>8}[/] {f['id']} {c['name']}@{c['version']}: {f['summary']}")
        cli.out.print(f"{len(out['findings'])} finding(s) in {out['components']} components; highest: {out['highest']}")

    cli.emit(out, human)
    if fail_on and out.get("sbom") == "pending":
        raise Failed(f"{out['artifact']}'s SBOM is pending: its vulnerabilities cannot be checked yet", REFUSED)
    if fail_on and out["findings"] and Severity.parse(out["highest"]) >= Severity.parse(fail_on):
        raise Failed(f"{out['artifact']} has vulnerabilities at or above {fail_on}", REFUSED)


COMMANDS = [sbom, vuln]
