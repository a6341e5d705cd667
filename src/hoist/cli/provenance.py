"""hoist provenance, hoist verify: the chain of evidence, verified on this machine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hoist.cli.context import Cli, common_options
from hoist.cli.exits import INTEGRITY, Failed
from hoist.domain.models import ArtifactRef

if TYPE_CHECKING:  # the client and cryptography are imported when the command runs, not at start-up
    from hoist.client.provenance import Chain

F = TypeVar("F", bound=Callable[..., Any])
_KEY = click.Path(exists=True, dir_okay=False, path_type=Path)


def _chain(cli: Cli, ref: str, environment: str | None, server_key: Path | None, keys: tuple[Path, ...]) -> Chain:
    from hoist.client.provenance import build_chain

    ArtifactRef.parse(ref)
    return build_chain(
        cli.client(),
        ref,
        environment=environment,
        server_key=server_key.read_bytes() if server_key else None,
        signing_keys={p.stem: p.read_bytes() for p in keys},
        transfer=cli.transfer,
    )


def _options(command: F) -> F:
    command = click.option(
        "--server-key",
        type=_KEY,
        default=None,
        help="The server's public key (PEM) to verify its statements with [default: the one it publishes].",
    )(command)
    return click.option("--key", "keys", type=_KEY, multiple=True, help="A public key whose signatures count (repeatable).")(
        command
    )


@click.command()
@click.argument("ref")
@click.option("--env", "environment", default=None, help="Only what matters for this environment.")
@_options
@common_options
def provenance(cli: Cli, ref: str, environment: str | None, server_key: Path | None, keys: tuple[Path, ...]) -> None:
    """The whole chain of NAME@VERSION: digest, build, SBOM, signatures, attestations, promotions,
    deployments, each signed link verified here. Exits 6 if any link fails to verify."""
    chain = _chain(cli, ref, environment, server_key, keys)

    def human() -> None:
        cli.out.print(f"[bold]{chain.ref}[/] {chain.digest}" + (f" for {chain.environment}" if chain.environment else ""))
        for link in chain.links:
            mark = "[green]✓[/]" if link.ok else "[red]✗[/]"
            cli.out.print(f"  {mark} {link.kind:<12} {link.what}" + (f": {link.detail}" if link.detail else ""))
        cli.out.print(f"server key {chain.server_key}: " + ("[green]verified[/]" if chain.ok else "[red]NOT verified[/]"))

    cli.emit(chain.as_dict(), human)
    if not chain.ok:
        raise Failed(f"{ref}: {sum(not link.ok for link in chain.links)} link(s) failed to verify", INTEGRITY)


@click.command()
@click.argument("ref")
@click.option("--env", "environment", required=True, help="The environment about to run it.")
@_options
@common_options
def verify(cli: Cli, ref: str, environment: str, server_key: Path | None, keys: tuple[Path, ...]) -> None:
    """The one-line check a deploy job runs: NAME@VERSION is in ENV's registry, by the same digest,
    with every signature, attestation and promotion verifying. Exits 0 or 6."""
    chain = _chain(cli, ref, environment, server_key, keys)
    failed = [link for link in chain.links if not link.ok and link.kind != "deployment"]
    problems = [f"{link.kind} {link.what}: {link.detail}" for link in failed]
    summary = {"ref": ref, "digest": chain.digest, "environment": environment, "verified": not failed, "failed": problems}

    def human() -> None:
        if failed:
            cli.out.print(f"[red]✗[/] {ref} {chain.digest} is NOT verified for {environment}")
            for line in problems:
                cli.out.print(f"  {line}")
        else:
            signed = sum(link.kind == "signature" for link in chain.links)
            cli.out.print(
                f"[green]✓[/] {ref} {chain.digest} verified for {environment} "
                f"({len(chain.links)} links, {signed} signatures)"
            )

    cli.emit(summary, human)
    if failed:
        raise Failed(f"{ref} is not verified for {environment}", INTEGRITY)


COMMANDS = [provenance, verify]
