"""Bad input found by probing: each is a clear 4xx in the protocol's error shape and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoist.cli.context import Cli
from hoist.cli.exits import USAGE
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.versions import MAX_BUILD
from hoist.metadata.sql.store import SqlMetadataStore
from tests.functional.helpers import push, row_counts
from tests.functional.oci_helpers import image_manifest, oci_error, put_manifest

TOO_BIG = "99999999999999999999999"


@pytest.fixture
def ci(client_as: Callable[..., HoistClient]) -> HoistClient:
    return client_as("ci", ["role:ci"])


@pytest.fixture
def ci_http(transport: httpx.BaseTransport, token_for: Callable[..., str]) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token_for('ci', ['role:ci'])}"}
    return httpx.Client(transport=transport, base_url="http://hoist.test", headers=headers)


@pytest.mark.parametrize(
    ("version", "build"),
    [
        ("1.4.0", 2**63),
        ("1.4.0", int(TOO_BIG)),
        (f"1.4.0+{TOO_BIG}", None),
        (f"1.4.0.{TOO_BIG}", None),
        (f"1.4.0-SNAPSHOT+{2**63}", None),
    ],
)
def test_build_numbers_above_the_bound_are_refused_and_poison_nothing(
    ci: HoistClient, tmp_path: Path, metadata: SqlMetadataStore, version: str, build: int | None
) -> None:
    push(ci, tmp_path, version="1.4.0", build="auto")
    before = row_counts(metadata)
    with pytest.raises(e.InvalidVersion, match=str(MAX_BUILD)):
        push(ci, tmp_path, version=version, build=build, content=b"other bytes")
    assert row_counts(metadata) == before
    after = push(ci, tmp_path, version="1.4.0", build="auto", content=b"next")
    assert after["artifact"]["version"] == "1.4.0+2"


def test_build_auto_allocates_up_to_the_bound_then_refuses(ci: HoistClient, tmp_path: Path) -> None:
    push(ci, tmp_path, version="2.0.0", build=MAX_BUILD - 1)
    last = push(ci, tmp_path, version="2.0.0", build="auto", content=b"last")
    assert last["artifact"]["version"] == f"2.0.0+{MAX_BUILD}"
    with pytest.raises(e.InvalidVersion, match="no build number is left"):
        push(ci, tmp_path, version="2.0.0", build="auto", content=b"one too many")
    assert push(ci, tmp_path, version="2.0.1", build="auto", content=b"fresh")["artifact"]["version"] == "2.0.1+1"


def test_the_api_field_refuses_a_build_above_the_bound_in_its_error_shape(ci: HoistClient, tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    blob = ci.upload(tmp_path / "a")
    body = {"package": "shop-api", "version": "1.4.0", "build": int(TOO_BIG), "files": [{"name": "a", **blob}]}
    r = ci.http.post("/api/v1/artifacts", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "BUILD_OUT_OF_RANGE" and str(MAX_BUILD) in error["message"]


def test_an_oci_version_tag_above_the_bound_is_refused(ci_http: httpx.Client, metadata: SqlMetadataStore) -> None:
    raw = image_manifest(ci_http, "dev/shop-api")
    before = row_counts(metadata)
    r = put_manifest(ci_http, "dev/shop-api", f"1.4.0_{TOO_BIG}", raw)
    assert r.status_code == 400 and oci_error(r) == "TAG_INVALID", r.text
    assert str(MAX_BUILD) in r.json()["errors"][0]["message"]
    assert row_counts(metadata) == before


def test_the_cli_refuses_a_build_above_the_bound_before_any_request(ci: HoistClient, tmp_path: Path) -> None:
    (tmp_path / "a.tgz").write_bytes(b"a")
    result = CliRunner().invoke(
        cli,
        ["push", "shop-api", str(tmp_path / "a.tgz"), "--version", "1.4.0", "--build", TOO_BIG],
        obj=Cli(_client=ci, progress=False),
    )
    assert result.exit_code == USAGE and str(MAX_BUILD) in result.output, result.output
    assert ci.artifacts() == []


DEEP = b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def test_a_manifest_nested_100000_levels_deep_is_manifest_invalid(ci_http: httpx.Client, metadata: SqlMetadataStore) -> None:
    before = row_counts(metadata)
    r = put_manifest(ci_http, "dev/shop-api", "latest", DEEP)
    assert r.status_code == 400 and oci_error(r) == "MANIFEST_INVALID", r.text
    assert "nested too deeply" in r.json()["errors"][0]["message"]
    assert row_counts(metadata) == before


def test_a_pipeline_header_nested_deeply_is_invalid_input(ci: HoistClient, tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    blob = ci.upload(tmp_path / "a")
    body = {"package": "shop-api", "version": "1.4.0", "files": [{"name": "a", **blob}]}
    header = "[" * 4000 + "]" * 4000
    r = ci.http.post("/api/v1/artifacts", json=body, headers={"X-Hoist-Pipeline": header})
    assert r.status_code == 400 and "nested too deeply" in r.json()["error"]["message"], r.text


# The keys of native packages (npm/, pypi/, maven/) are not for OCI pushes or generic publishes.


@pytest.mark.parametrize(
    ("package", "message"),
    [
        ("npm/left-pad", "reserved for the npm view: publish with npm"),
        ("pypi/shop-utils", "reserved for the pypi view: publish with twine"),
        ("npm/Left-Pad", "reserved for the npm view"),
    ],
)
def test_a_generic_publish_under_a_native_prefix_is_refused(
    ci: HoistClient, tmp_path: Path, metadata: SqlMetadataStore, package: str, message: str
) -> None:
    before = row_counts(metadata)
    with pytest.raises(e.InvalidName, match=message):
        push(ci, tmp_path, package=package, version="1.0.0")
    assert row_counts(metadata) == before


def test_an_oci_push_under_a_native_prefix_is_name_invalid(ci_http: httpx.Client, metadata: SqlMetadataStore) -> None:
    raw = image_manifest(ci_http, "dev/pypi/django")
    before = row_counts(metadata)
    r = put_manifest(ci_http, "dev/pypi/django", "1.0.0", raw)
    assert r.status_code == 400, r.text
    assert oci_error(r) == "NAME_INVALID"
    assert "reserved for the pypi view" in r.json()["errors"][0]["message"]
    assert row_counts(metadata) == before


def test_plain_names_that_only_look_alike_still_publish(ci: HoistClient, tmp_path: Path) -> None:
    assert push(ci, tmp_path, package="npmjs/left-pad", version="1.0.0")["artifact"]["package"] == "npmjs/left-pad"
