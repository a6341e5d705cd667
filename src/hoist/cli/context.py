"""What every user command shares: where the server is, which credential it presents (``--token``,
HOIST_TOKEN, or what ``hoist login`` saved for that server), from which pipeline, and how to print
(``--json`` for scripts, tables and progress bars for people).

The options are accepted both before and after the command name (``hoist --json ls`` and
``hoist ls --json``), because scripts and people put them in both places.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hoist import DEFAULT_URL

if TYPE_CHECKING:  # rich, the client (httpx) and the model are imported when a command needs them, not at start-up
    from rich.console import Console
    from rich.table import Table

    from hoist.client import HoistClient
    from hoist.domain.models import Pipeline

F = TypeVar("F", bound=Callable[..., Any])
TOKEN_HELP = "API token to authenticate with [env HOIST_TOKEN; default: what `hoist login` saved for --url]."  # noqa: S105


def credentials_file() -> Path:
    """Where ``hoist login`` keeps tokens, one per server URL (mode 0600)."""
    base = os.environ.get("HOIST_CONFIG_DIR") or os.path.join(
        os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "hoist"
    )
    return Path(base) / "credentials.json"


def saved_tokens() -> dict[str, str]:
    try:
        data = json.loads(credentials_file().read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def saved_token(url: str) -> str | None:
    return saved_tokens().get(url.rstrip("/"))


def save_token(url: str, token: str | None) -> Path:
    """Keep (or with None, forget) the token for ``url``; the file is written 0600, atomically."""
    tokens = saved_tokens()
    if token is None:
        tokens.pop(url.rstrip("/"), None)
    else:
        tokens[url.rstrip("/")] = token
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f, indent=2)
    os.replace(draft, path)
    return path


@dataclass
class Cli:
    url: str = DEFAULT_URL
    json: bool = False
    token: str | None = None
    pipeline: str | None = None
    progress: bool | None = None
    _client: HoistClient | None = field(default=None, repr=False)

    @property
    def out(self) -> Console:
        from rich.console import Console

        # Piped output is read by tools and people alike: never squeeze it to 80 columns.
        return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 250)

    @property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 250)

    def credential(self) -> str | None:
        return self.token or os.environ.get("HOIST_TOKEN") or saved_token(self.url)

    def pipeline_identity(self) -> Pipeline | None:
        from hoist.domain.pipeline import pipeline_from_environment, pipeline_from_option

        if self.pipeline:
            return pipeline_from_option(self.pipeline)
        return pipeline_from_environment(os.environ)

    def client(self) -> HoistClient:
        if self._client is None:
            from hoist.client import HoistClient

            self._client = HoistClient(self.url, token=self.credential(), pipeline=self.pipeline_identity())
        return self._client

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        """Print ``data`` as JSON for scripts, or call ``human`` to print it for people."""
        if self.json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            human()

    def say(self, text: str) -> None:
        if not self.json:
            self.out.print(text)

    def show_progress(self) -> bool:
        if self.json:
            return False
        return self.progress if self.progress is not None else sys.stderr.isatty()

    @contextmanager
    def transfer(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        """A progress bar on stderr while bytes move (none for scripts); yields the advance callback."""
        if not self.show_progress():
            yield lambda _n: None
            return
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=self.err, transient=False) as bar:
            task = bar.add_task(description, total=total)

            def advance(n: int) -> None:
                if n < 0:
                    bar.reset(task, total=total)
                else:
                    bar.advance(task, n)

            yield advance


def new_table(*columns: str, **options: Any) -> Table:
    """A rich table; rich is imported when a command prints one, not when ``hoist`` starts."""
    from rich.table import Table

    return Table(*columns, **options)


def escape(text: str) -> str:
    """``text`` shown as is, not read as rich markup."""
    from rich.markup import escape as markup_escape

    return markup_escape(text)


def common_options(command: F) -> F:
    """--url, --token, --pipeline, --json, --progress on a command, overriding the group's."""

    @click.option("--url", envvar="HOIST_URL", default=None, help="Hoist server URL [env HOIST_URL].")
    @click.option("--token", default=None, help=TOKEN_HELP)
    @click.option("--pipeline", default=None, help="Pipeline identity, overriding what the CI environment says.")
    @click.option("--json", "as_json", is_flag=True, default=None, help="Print JSON for scripts.")
    @click.option("--progress/--no-progress", default=None, help="Progress bars on transfers.")
    @functools.wraps(command)
    def wrapper(
        *args: Any,
        url: str | None,
        token: str | None,
        pipeline: str | None,
        as_json: bool | None,
        progress: bool | None,
        **kwargs: Any,
    ) -> Any:
        cli = click.get_current_context().ensure_object(Cli)
        if url:
            cli.url = url
        if token:
            cli.token = token
        if pipeline:
            cli.pipeline = pipeline
        if as_json:
            cli.json = True
        if progress is not None:
            cli.progress = progress
        return command(cli, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
