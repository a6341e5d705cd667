from __future__ import annotations

import os
from pathlib import Path

import pytest

from hoist.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hoist.toml"
    path.write_text(text)
    return path


def test_no_file_means_the_embedded_default(tmp_path: Path) -> None:
    s = load_settings(environ={})
    assert (s.host, s.port, s.workers) == ("127.0.0.1", 8080, min(os.cpu_count() or 1, 64))
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("hoist-data/hoist.db")
    assert s.storage_dir == Path("hoist-data")


def test_hoist_serve_runs_the_blob_server_on_the_next_port_unless_told_otherwise(tmp_path: Path) -> None:
    default = load_settings(environ={}, overrides={"port": 9000})
    assert default.blob_port is None  # an app built in-process (tests, scripts) serves blobs itself
    assert default.for_serving().blob_port == 9001
    assert load_settings(environ={"HOIST_BLOB_PORT": "0"}).for_serving().blob_port == 0  # off
    assert load_settings(environ={"HOIST_BLOB_PORT": "9500"}).for_serving().blob_port == 9500
    assert load_settings(environ={}, overrides={"port": 65535}).for_serving().blob_port == 0  # no next port
    assert load_settings(write(tmp_path, "[server]\nworkers = 3\n"), environ={}).workers == 3


def test_environment_variables_override_the_file_and_flags_override_both(tmp_path: Path) -> None:
    f = write(tmp_path, "[server]\nport = 9000\nhost = '0.0.0.0'\n")
    s = load_settings(f, environ={"HOIST_PORT": "9100", "HOIST_DATA_DIR": str(tmp_path)}, overrides={"host": "::1"})
    assert (s.port, s.host, s.data_dir) == (9100, "::1", tmp_path)
    assert load_settings(environ={"HOIST_CONFIG": str(f)}).port == 9000


def test_every_bad_key_is_named(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        """
[server]
port = "eighty"
colour = "blue"

[registries.dev]
direct_push = true
[registries.prod]
promote_from = ["qa"]
[registries.prod.promotion]
attestations = ["unit-tests@"]

[environments.dev]
registry = "dev"
aprovals = 1
[environments.prod]
registry = "production"
""",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(f, environ={})
    text = "\n".join(info.value.problems)
    for key in ("server.port", "server.colour", "environments.dev.aprovals", "registries.prod.promotion.attestations"):
        assert key in text


def test_cross_references_are_checked(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        """
[registries.dev]
[registries.prod]
promote_from = ["qa"]
[environments.dev]
registry = "dev"
[environments.live]
registry = "production"
""",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(f, environ={})
    problems = info.value.problems
    assert "registries.prod.promote_from: unknown registry 'qa'" in problems
    assert "environments.live.registry: unknown registry 'production'" in problems
    assert any(p.startswith("ceilings.rc:") for p in problems)


def test_a_custom_chain(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        """
[registries.dev]
overwrite_snapshots = true
[registries.live]
direct_push = false
promote_from = ["dev"]
[environments.test]
registry = "dev"
[environments.live]
registry = "live"
approvals = 2
attestations = ["e2e@test"]
[ceilings]
snapshot = "test"
rc = "test"
release = "live"
""",
    )
    policy = load_settings(f, environ={}).policy
    assert [e.name for e in policy.environments] == ["test", "live"]
    assert policy.environment("live").gates.approvals == 2
    assert str(policy.environment("live").gates.attestations[0]) == "e2e@test"


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "missing.toml", environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[server\n"), environ={})


def test_the_readme_configuration_is_the_default(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    documented = load_settings(write(tmp_path, block), environ={})
    assert documented.policy == load_settings(environ={}).policy


def test_robots_may_approve_is_off_by_default_and_must_be_a_boolean(tmp_path: Path) -> None:
    assert not any(env.robots_may_approve for env in load_settings(environ={}).policy.environments)
    ceilings = '[ceilings]\nsnapshot = "dev"\nrc = "dev"\nrelease = "dev"\n'
    allowed = write(tmp_path, f'{ceilings}[environments.dev]\nregistry = "dev"\nrobots_may_approve = true\n')
    assert load_settings(allowed, environ={}).policy.environment("dev").robots_may_approve
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, '[environments.dev]\nregistry = "dev"\nrobots_may_approve = "yes"\n'), environ={})
    assert any(p.startswith("environments.dev.robots_may_approve:") for p in info.value.problems)


def test_uploads_expire_after_a_configured_idle_time(tmp_path: Path) -> None:
    assert load_settings(environ={}).upload_expire_hours == 24
    assert load_settings(write(tmp_path, "[uploads]\nexpire_hours = 0.5\n"), environ={}).upload_expire_hours == 0.5
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, "[uploads]\nexpire_hours = 0\nexpire_days = 1\n"), environ={})
    assert any(p.startswith("uploads.expire_hours: ") and "greater than 0" in p for p in info.value.problems)
    assert "uploads.expire_days: unknown key" in info.value.problems


def test_an_s3_storage_url_selects_s3_and_config_check_shows_no_secret(tmp_path: Path) -> None:
    from hoist.app import describe

    f = write(
        tmp_path,
        "[server]\nstorage_url = 's3://artifacts/registry'\ns3_endpoint_url = 'http://127.0.0.1:9'\n"
        "s3_access_key_id = 'hoist'\ns3_secret_access_key = 'very-secret-key'\n",
    )
    s = load_settings(f, environ={})
    assert s.storage_url == "s3://artifacts/registry" and s.s3 is not None and s.s3.endpoint_url == "http://127.0.0.1:9"
    shown = describe(s)
    assert shown["storage"] == "s3://artifacts/registry" and shown["s3_endpoint"] == "http://127.0.0.1:9"
    assert "very-secret-key" not in repr(shown) and "very-secret-key" not in repr(s)
    assert load_settings(environ={"HOIST_STORAGE_URL": "s3://other/p"}).storage_url == "s3://other/p"
    assert load_settings(environ={}).storage_url is None


def test_a_storage_url_that_is_not_s3_is_named(tmp_path: Path) -> None:
    for bad in ("file:///tmp/blobs", "s3://", "s3://Bad_Bucket/x"):
        with pytest.raises(ConfigError) as info:
            load_settings(write(tmp_path, f"[server]\nstorage_url = '{bad}'\n"), environ={})
        assert "server.storage_url" in "\n".join(info.value.problems)
