"""Admin commands that run the server side in-process: hoist serve, worker, config check, db upgrade.
The server modules are imported inside the commands, so user commands start fast."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hoist.cli.exits import ERROR, USAGE, Failed

if TYPE_CHECKING:
    from hoist.config import Settings

HOIST = [sys.executable, "-m", "hoist"]
CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="HOIST_CONFIG",
    help="hoist.toml [env HOIST_CONFIG].",
)


def _settings(config_file: Path | None, **overrides: Any) -> Any:
    from hoist.config import ConfigError, load_settings

    try:
        return load_settings(config_file, overrides=overrides)
    except ConfigError as exc:
        for problem in exc.problems:
            click.secho(f"error: {problem}", fg="red", err=True)
        raise Failed(f"{len(exc.problems)} configuration error(s)", USAGE) from None


@click.command()
@click.option("--host", default=None, help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [default 8080].")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the SQLite database and blobs [default ./hoist-data].",
)
@click.option("--workers", type=int, default=None, help="Worker processes [default: one per core].")
@click.option(
    "--blob-port",
    type=int,
    default=None,
    help="Port of the sendfile server blob downloads redirect to [default: --port + 1; 0: off, blobs from --port].",
)
@click.option(
    "--worker/--no-worker",
    "in_process_worker",
    default=True,
    help="Run queued jobs in this process [default]; --no-worker when `hoist worker` processes run them (PostgreSQL).",
)
@CONFIG
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    workers: int | None,
    blob_port: int | None,
    in_process_worker: bool,
    config_file: Path | None,
) -> None:
    """Run the Hoist server (embedded default: SQLite and a blob folder, nothing else to start)."""
    counts = _metrics_folder()  # before the app's modules load: the workers inherit how they count

    from hoist.app import bootstrap_admin, migrate, start_blob_server
    from hoist.domain.errors import InvalidInput
    from hoist.http import logs

    directory = str(data_dir) if data_dir else None
    settings = _settings(config_file, host=host, port=port, data_dir=directory, workers=workers, blob_port=blob_port)
    settings = settings.for_serving()
    logs.configure(settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings)
    given = os.environ.pop("HOIST_ADMIN_TOKEN", None) or None  # not handed on to the workers
    try:
        token = bootstrap_admin(settings, given)
    except InvalidInput as exc:
        raise Failed(exc.message, USAGE) from None
    if token is not None and given is None:
        click.secho("Created the first administrator, 'admin'. Its token, shown this once:", fg="yellow", err=True)
        click.echo(f"\n    {token}\n", err=True)
        click.echo("Log in with `hoist login` (paste it), then create people and robots: `hoist user create`.", err=True)
    elif token is not None:
        click.echo("Created the first administrator, 'admin', with the token in HOIST_ADMIN_TOKEN.", err=True)
    # Workers are separate processes that build the app from HOIST_* variables: hand them the
    # settings this command resolved, so flags, file and environment agree.
    os.environ.update(
        {
            "HOIST_HOST": settings.host,
            "HOIST_PORT": str(settings.port),
            "HOIST_DATA_DIR": str(settings.data_dir),
            "HOIST_DATABASE_URL": settings.database_url,
            "HOIST_STORAGE_DIR": str(settings.storage_dir),
            "HOIST_BLOB_PORT": str(settings.blob_port),
            **({"HOIST_STORAGE_URL": settings.storage_url} if settings.storage_url else {}),
            "HOIST_LOG_FORMAT": logs.resolve(settings.log_format),  # decided once, for every worker alike
        }
    )
    if config_file is not None:
        os.environ["HOIST_CONFIG"] = str(config_file.resolve())
    click.echo(f"hoist serving http://{settings.host}:{settings.port} (data in {settings.data_dir})", err=True)
    click.echo(f"{settings.workers} worker(s); --workers or HOIST_WORKERS to change", err=True)
    blob_server = None
    if settings.blob_port:
        try:
            blob_server = start_blob_server(settings)
        except OSError as exc:
            raise Failed(
                f"blob server on port {settings.blob_port}: {exc.strerror} (--blob-port N, or 0 for none)", ERROR
            ) from None
        public = settings.blob_url or f"http://{settings.host}:{settings.blob_port}"
        click.echo(f"blob downloads redirect to {public} (sendfile; --blob-port 0 turns it off)", err=True)
    jobs = None
    if in_process_worker:
        # A child process, not a thread: granian forks its workers after this, and a thread caught
        # inside SQLite or psycopg at a fork leaves the forked worker deadlocked.
        jobs = subprocess.Popen([*HOIST, "worker", "--parent", str(os.getpid())])  # noqa: S603 - our own CLI
        click.echo(
            "jobs (SBOMs, maintenance) run in a worker of this server; --no-worker leaves them to `hoist worker`", err=True
        )
    if settings.maintenance_hours:
        click.echo(f"maintenance every {settings.maintenance_hours:g} hour(s), as a job", err=True)
    _run(settings, jobs)
    if blob_server is not None:  # the workers are gone: no new redirect to it; let its downloads finish
        blob_server.stop(settings.shutdown_grace)
    if counts is not None:
        shutil.rmtree(counts, ignore_errors=True)


def _run(settings: Settings, jobs: subprocess.Popen[bytes] | None) -> None:
    """Granian's workers, until a stop drains them (and the job worker with them)."""
    from granian import Granian
    from granian.constants import Interfaces, RuntimeModes

    from hoist.http import logs

    server = Granian(
        "hoist.app:create_app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_access=False,
        # One thread per worker for the Rust runtime: measured here, a multi-threaded runtime hands each
        # 128 KiB chunk of a blob download between threads (futex storms) and pulls ran ~10% slower.
        runtime_mode=RuntimeModes.st,
        log_dictconfig=logs.granian_config(settings.log_format),
        workers_kill_timeout=settings.shutdown_grace,  # a stop waits this long for requests under way
    )
    if jobs is not None:
        server.on_shutdown(partial(_stop_child, jobs))
    server.serve()


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    child.terminate()
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()


def _metrics_folder() -> Path | None:
    """Where the worker processes count for /metrics (Prometheus's multiprocess mode), emptied: the
    operator's PROMETHEUS_MULTIPROC_DIR, or a folder of this run's own (returned, to be removed)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # counts of an earlier run would be summed with this one's
            stale.unlink()
        return None
    made = Path(tempfile.mkdtemp(prefix="hoist-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
    return made


@click.group(name="config")
def config_group() -> None:
    """Configuration (hoist.toml and HOIST_* variables)."""


@config_group.command()
@CONFIG
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def check(config_file: Path | None, as_json: bool) -> None:
    """Validate the configuration and name every bad key."""
    from hoist.app import describe

    settings = _settings(config_file)
    summary = describe(settings)
    if as_json:
        click.echo(json.dumps({"ok": True, **summary}, indent=2))
        return
    click.echo(f"configuration OK ({summary['source'] or 'built-in defaults'})")
    for key, value in summary.items():
        if key != "source":
            click.echo(f"  {key}: {value}")


@click.group(name="db")
def db_group() -> None:
    """The metadata database."""


@db_group.command()
@CONFIG
def upgrade(config_file: Path | None) -> None:
    """Migrate the metadata schema to the current revision."""
    from hoist.app import migrate

    settings = _settings(config_file)
    migrate(settings)
    click.echo("metadata schema is up to date", err=True)


@click.command()
@click.option("--once", is_flag=True, help="Run the jobs due now (retries included), then exit: scripts and tests.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--parent", type=int, default=None, hidden=True, help="Stop when this process (hoist serve) is gone.")
@CONFIG
def worker(once: bool, as_json: bool, parent: int | None, config_file: Path | None) -> None:
    """Run queued jobs (SBOM generation, scheduled maintenance) until stopped (SIGINT, SIGTERM).
    Several may run on PostgreSQL: no job runs twice at once. Exit 1 when a job failed for good."""
    import signal
    import threading

    from hoist.app import build_services, open_blobs, open_metadata, schema_problem

    settings = _settings(config_file)
    metadata = open_metadata(settings)
    problem = schema_problem(metadata)
    if problem:
        raise Failed(problem, USAGE)
    services = build_services(settings, metadata, open_blobs(settings))
    stop = threading.Event()
    if not once:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True).start()
    report = services.jobs.work(once=once, stop=stop)
    metadata.dispose()
    failed = [{"id": j.id, "name": j.name, "key": j.key, "attempts": j.attempts, "error": j.error} for j in report.failed]
    if as_json:
        click.echo(json.dumps({"ran": report.ran, "failed": failed}, indent=2))
    else:
        click.echo(f"{report.ran} job attempt(s) run, {len(failed)} job(s) failed for good", err=True)
        for f in failed:
            click.secho(f"failed: {f['name']} #{f['id']} ({f['key']}): {f['error']}", fg="red", err=True)
    if failed:
        raise SystemExit(ERROR)


def _watch_parent(parent: int, stop: Any) -> None:
    """The worker ``hoist serve`` started ends with it, however it ended."""
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


COMMANDS = [serve, config_group, db_group, worker]
