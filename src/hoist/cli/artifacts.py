"""hoist push, pull, ls, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hoist.cli.context import Cli, common_options, escape
from hoist.cli.tables import columns
from hoist.domain.errors import InvalidInput
from hoist.domain.models import ArtifactRef
from hoist.domain.names import validate_file_name, validate_package_name
from hoist.domain.versions import bounded_build


def short(digest: str) -> str:
    alg, _, hexpart = digest.partition(":")
    return f"{alg}:{hexpart[:12]}"


def placements_text(artifact: dict[str, Any]) -> str:
    return ", ".join(p["registry"] + (" (sealed)" if p["sealed"] else "") for p in artifact.get("placements", []))


def _build(value: str | None) -> int | str | None:
    if value is None or value == "auto":
        return value
    if not value.isdigit():
        raise InvalidInput(f"--build must be a number or 'auto', not {value!r}")
    return bounded_build(int(value))  # refused here: no upload before the server would refuse it


@click.command()
@click.argument("name")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version", required=True, help="SemVer 2.0 or Major.Minor.Patch.Build.")
@click.option("--registry", default="dev", show_default=True, help="Registry to push into.")
@click.option("--build", default=None, help="Build number, or 'auto' for the next one the server hands out.")
@click.option("--max-env", default=None, help="Lower the artifact's ceiling (e.g. dev for a DEV-branch build).")
@common_options
def push(
    cli: Cli,
    name: str,
    files: tuple[Path, ...],
    version: str,
    registry: str,
    build: str | None,
    max_env: str | None,
) -> None:
    """Upload FILES as one artifact version of NAME, streamed and hashed on the way."""
    validate_package_name(name)
    for f in files:
        validate_file_name(f.name)
    client = cli.client()
    entries = []
    for path in files:
        with cli.transfer(f"↑ {path.name}", path.stat().st_size) as advance:
            blob = client.upload(path, advance)
        entries.append({"name": path.name, "digest": blob["digest"], "size": blob["size"]})
    result = client.publish(
        package=name, version=version, files=entries, registry=registry, build=_build(build), max_env=max_env
    )
    a = result["artifact"]
    words = {
        "created": "pushed",
        "unchanged": "unchanged (same bytes)",
        "overwritten": "overwrote snapshot",
        "placed": "placed",
    }

    def human() -> None:
        cli.out.print(
            f"{words[result['outcome']]} [bold]{a['package']}@{a['version']}[/] {a['digest']}\n"
            f"  registry {result['registry']} · channel {a['channel']} · ceiling {a['ceiling']}"
            + (f" · replaced {short(result['replaced'])}" if result.get("replaced") else "")
        )

    cli.emit(result, human)


@click.command()
@click.argument("ref")
@click.option("--registry", default=None, help="Pull only if the artifact is in this registry.")
@click.option(
    "-o",
    "--output",
    "output",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the files into.",
    show_default=True,
)
@common_options
def pull(cli: Cli, ref: str, registry: str | None, output: Path) -> None:
    """Download NAME@VERSION (or NAME@sha256:…), verifying every file against its digest."""
    ArtifactRef.parse(ref)
    client = cli.client()
    artifact = client.artifact(ref, registry=registry)
    if not artifact["files"]:
        raise InvalidInput(
            f"{ref} holds no named files (it is an OCI image or index): pull it with an OCI client, e.g. "
            f"skopeo copy docker://<host>/<registry>/{artifact['package']}:{artifact['version'].replace('+', '_')} ..."
        )
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for f in artifact["files"]:
        name = validate_file_name(f["name"])  # never trust a server with paths
        with cli.transfer(f"↓ {name}", f["size"]) as advance:
            client.download(f["digest"], f["size"], output / name, advance)
        written.append({**f, "path": str(output / name)})
    result = {
        "package": artifact["package"],
        "version": artifact["version"],
        "digest": artifact["digest"],
        "files": written,
    }

    def human() -> None:
        cli.out.print(f"pulled [bold]{artifact['package']}@{artifact['version']}[/] {artifact['digest']}")
        for f in written:
            cli.out.print(f"  ✓ {f['path']}  {f['size']} bytes  {short(f['digest'])}")

    cli.emit(result, human)


@click.command(name="ls")
@click.argument("name", required=False)
@click.option("--registry", default=None, help="Only what this registry holds.")
@common_options
def list_artifacts(cli: Cli, name: str | None, registry: str | None) -> None:
    """List packages and versions with their digests, the registries holding them and where they run."""
    if name:
        validate_package_name(name)
    rows = cli.client().artifacts(package=name, registry=registry)

    def human() -> None:
        if not rows:
            cli.out.print("no artifacts" + (f" in {registry}" if registry else ""))
            return
        table = columns(
            "PACKAGE",
            "VERSION",
            "DIGEST",
            "CHANNEL",
            "CEILING",
            "SIZE",
            "REGISTRIES",
            "RUNNING IN",
            no_wrap={"DIGEST", "VERSION"},
        )
        for a in rows:
            table.add_row(
                a["package"],
                a["version"],
                short(a["digest"]),
                a["channel"],
                a["ceiling"],
                str(a["size"]),
                placements_text(a),
                ", ".join(a["running_in"]),
            )
        cli.out.print(table)

    cli.emit(rows, human)


@click.command()
@click.argument("ref")
@click.option("--registry", default=None, help="The registry it leaves [default: the only one holding it].")
@click.option("--reason", default=None, help="Why, for the audit trail and the trash.")
@common_options
def delete(cli: Cli, ref: str, registry: str | None, reason: str | None) -> None:
    """Take NAME@VERSION out of a registry into its trash: restorable with `hoist restore` until purged.

    Refused while the version is sealed there, runs in an environment reading it, or is in such an
    environment's rollback window; needs delete on the registry."""
    ArtifactRef.parse(ref)
    item = cli.client().delete(ref, registry=registry, reason=reason)

    def human() -> None:
        cli.out.print(
            f"deleted [bold]{escape(item['ref'])}[/] from {item['registry']} into the trash (item {item['id']}); "
            f"until {item['purge_after'][:10]}: hoist restore {escape(item['ref'])} --registry {item['registry']}"
        )

    cli.emit(item, human)


COMMANDS = [push, pull, list_artifacts, delete]
