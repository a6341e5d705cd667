"""The ``hoist`` command. Exit codes are listed in ``hoist.cli.exits``."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

from hoist import __version__
from hoist.cli import access, admin, artifacts, audit, deployments, maintenance, provenance, releases, signing, supply
from hoist.cli.context import TOKEN_HELP, Cli
from hoist.cli.exits import ERROR, exit_code_of
from hoist.client import DEFAULT_URL, ServerUnreachable
from hoist.domain import errors as e


class HoistGroup(click.Group):
    """Turns errors into one clear message (or a JSON error object) and a meaningful exit code: one
    ``error:`` line on stderr, never a traceback, click's own usage errors included (exit 2)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.ClickException as error:
            _fail(error)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except e.HoistError as error:
            _report(ctx, error.code, error.message, error.details)
            sys.exit(exit_code_of(error))
        except ServerUnreachable as error:
            _report(ctx, "SERVER_UNREACHABLE", f"{error}; is 'hoist serve' running? (--url / HOIST_URL)", {})
            sys.exit(ERROR)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.ClickException as error:
            _fail(error)


def _fail(error: click.ClickException) -> NoReturn:
    """What click's ``show`` prints, with Hoist's one prefix."""
    ctx = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"Try '{ctx.command_path} {max(ctx.command.get_help_option_names(ctx), key=len)}' for help.\n"
        click.echo(f"{ctx.get_usage()}\n{hint}", err=True)
    click.secho(f"error: {error.format_message()}", fg="red", err=True)
    sys.exit(error.exit_code)


def _report(ctx: click.Context, code: str, message: str, details: dict[str, Any]) -> None:
    cli = ctx.find_object(Cli)
    if cli is not None and cli.json:
        click.echo(json.dumps({"error": {"code": code, "message": message, "details": details}}, indent=2))
        return
    problems = details.get("problems") or []
    if problems:
        headline = message.split(":", 1)[0]
        click.secho(f"error: {headline}:", fg="red", err=True)
        for p in problems:
            click.echo(f"  ✗ {p['gate']}: {p['message']}", err=True)
    else:
        click.secho(f"error: {message}", fg="red", err=True)


@click.group(cls=HoistGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="hoist")
@click.option(
    "--url",
    envvar="HOIST_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="Hoist server URL [env HOIST_URL].",
)
@click.option("--token", default=None, help=TOKEN_HELP)
@click.option("--pipeline", default=None, help="Pipeline identity, overriding what the CI environment says.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--progress/--no-progress", default=None, help="Progress bars on transfers [default: on a terminal].")
@click.pass_context
def cli(
    ctx: click.Context,
    url: str,
    token: str | None,
    pipeline: str | None,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Hoist: build once, promote the same bytes, prove it."""
    cli = ctx.ensure_object(Cli)  # tests hand in a Cli wired to an in-process client
    cli.url, cli.json = url, cli.json or as_json
    cli.token = token or cli.token
    cli.pipeline = pipeline or cli.pipeline
    cli.progress = progress if progress is not None else cli.progress


for module in (artifacts, releases, signing, supply, provenance, deployments, audit, maintenance, access, admin):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="hoist")
