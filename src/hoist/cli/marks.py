"""hoist yank, unyank: PEP 592 yanks of a PyPI version, per registry."""

from __future__ import annotations

import click

from hoist.cli.context import Cli, common_options

PYPI = "pypi/"


def pypi_ref(ref: str) -> str:
    """``shop-utils@1.4.0`` or ``pypi/shop-utils@1.4.0``: yanking is PyPI's, so the prefix is optional."""
    return ref if ref.startswith(PYPI) else PYPI + ref


@click.command()
@click.argument("ref")
@click.option("--registry", required=True, help="The registry whose index shows the version as yanked.")
@click.option("--reason", default=None, help="Why; pip prints it to whoever still installs the version.")
@common_options
def yank(cli: Cli, ref: str, registry: str, reason: str | None) -> None:
    """Yank PKG@VERSION in one registry: installers skip it unless pinned exactly (PEP 592); the
    files stay, with the same bytes and hashes."""
    result = cli.client().mark(pypi_ref(ref), "yanked", registry=registry, message=reason)
    because = f": {reason}" if reason else ""
    cli.emit(result, lambda: cli.out.print(f"yanked [bold]{pypi_ref(ref)}[/] in {registry}{because}"))


@click.command()
@click.argument("ref")
@click.option("--registry", required=True, help="The registry whose index shows the version again.")
@common_options
def unyank(cli: Cli, ref: str, registry: str) -> None:
    """Undo a yank of PKG@VERSION in one registry."""
    result = cli.client().unmark(pypi_ref(ref), "yanked", registry=registry)
    cli.emit(result, lambda: cli.out.print(f"unyanked [bold]{pypi_ref(ref)}[/] in {registry}"))


COMMANDS = [yank, unyank]
