"""The ``hoist`` command. Exit codes are listed in ``hoist.cli.exits``.

A pipeline starts ``hoist`` many times, so start-up matters: a command's module (and with it httpx,
rich, cryptography) is imported only when that command runs, or when ``hoist --help`` lists it.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any, NoReturn

import click

from hoist import DEFAULT_URL, __version__
from hoist.cli.context import TOKEN_HELP, Cli
from hoist.cli.exits import ERROR, exit_code_of
from hoist.domain import errors as e

# Every command, by name, and the module of hoist.cli whose COMMANDS define it. A new command is one line here.
COMMAND_MODULES = {
    "push": "artifacts",
    "pull": "artifacts",
    "ls": "artifacts",
    "delete": "artifacts",
    "promote": "releases",
    "attest": "releases",
    "approve": "releases",
    "yank": "marks",
    "unyank": "marks",
    "key": "signing",
    "sign": "signing",
    "sbom": "supply",
    "vuln": "supply",
    "provenance": "provenance",
    "verify": "provenance",
    "deploy": "deployments",
    "rollback": "deployments",
    "status": "deployments",
    "history": "audit",
    "audit": "audit",
    "retention": "maintenance",
    "trash": "maintenance",
    "restore": "maintenance",
    "gc": "maintenance",
    "fsck": "maintenance",
    "maintenance": "maintenance",
    "jobs": "maintenance",
    "worker": "admin",
    "login": "access",
    "logout": "access",
    "whoami": "access",
    "token": "access",
    "user": "access",
    "team": "access",
    "access": "access",
    "serve": "admin",
    "config": "admin",
    "db": "admin",
}


def load_command(name: str) -> click.Command:
    module = importlib.import_module(f"hoist.cli.{COMMAND_MODULES[name]}")
    commands: list[click.Command] = module.COMMANDS
    return next(command for command in commands if command.name == name)


class HoistGroup(click.Group):
    """Turns errors into one clear message (or a JSON error object) and a meaningful exit code: one
    ``error:`` line on stderr, never a traceback, click's own usage errors included (exit 2)."""

    def list_commands(self, _ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *self.commands})

    def get_command(self, _ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            self.add_command(load_command(cmd_name))
        return self.commands.get(cmd_name)

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
            if error.code == "SERVER_UNREACHABLE":  # the client's ServerUnreachable, caught without importing httpx
                _report(ctx, error.code, f"{error.message}; is 'hoist serve' running? (--url / HOIST_URL)", {})
                sys.exit(ERROR)
            _report(ctx, error.code, error.message, error.details)
            sys.exit(exit_code_of(error))
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


def main() -> None:
    cli(prog_name="hoist")
