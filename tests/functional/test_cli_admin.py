"""Admin commands: config check names every bad key; db upgrade migrates; progress bars render."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import inspect

from hoist.cli.context import Cli
from hoist.cli.exits import USAGE
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.metadata.sql.migrate import current_revision, head_revision
from hoist.metadata.sql.store import make_engine


def test_config_check_accepts_the_defaults_and_names_every_bad_key(tmp_path: Path) -> None:
    ok = CliRunner().invoke(cli, ["config", "check", "--json"], env={"HOIST_CONFIG": ""})
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["environments"] == ["dev", "uat", "preprod", "prod"]
    bad = tmp_path / "hoist.toml"
    bad.write_text('[server]\nport = 0\n[environments.prod]\nregistry = "nowhere"\napprovalz = 2\n')
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(bad)])
    assert result.exit_code == USAGE
    for key in ("server.port", "environments.prod.approvalz", "environments.prod.registry"):
        assert key in result.output


def test_db_upgrade_migrates_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"HOIST_DATABASE_URL": url, "HOIST_CONFIG": ""})
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision(engine)
        assert {"artifacts", "audit_events", "placements"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_progress_bars_render_on_request(client: HoistClient, tmp_path: Path) -> None:
    path = tmp_path / "app.tgz"
    path.write_bytes(b"x" * 100_000)
    obj = Cli(_client=client)
    result = CliRunner().invoke(cli, ["push", "app", str(path), "--version", "1.0.0", "--progress"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "↑ app.tgz" in result.stderr
    pulled = CliRunner().invoke(cli, ["pull", "app@1.0.0", "-o", str(tmp_path / "o"), "--progress"], obj=obj)
    assert pulled.exit_code == 0 and "↓ app.tgz" in pulled.stderr


def test_serve_says_that_defining_registries_replaced_the_defaults(tmp_path: Path) -> None:
    config = tmp_path / "hoist.toml"
    config.write_text("[registries.main]\ndirect_push = true\n")  # the default environments still read dev and prod
    result = CliRunner().invoke(cli, ["serve", "--config", str(config), "--data", str(tmp_path / "data")])
    assert result.exit_code == USAGE
    assert "environments.dev.registry: unknown registry 'dev'" in result.stderr
    assert "defining [registries] replaces the default registries (dev, prod)" in result.stderr
    assert "[environments]" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was created
