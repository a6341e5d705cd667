"""The keys of native packages (npm/, pypi/, maven/) are not for OCI pushes or generic publishes:
each refusal is a clear 4xx in the protocol's error shape and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.metadata.sql.store import SqlMetadataStore
from tests.functional.helpers import push, row_counts
from tests.functional.oci_helpers import image_manifest, oci_error, put_manifest


@pytest.fixture
def ci(client_as: Callable[..., HoistClient]) -> HoistClient:
    return client_as("ci", ["role:ci"])


@pytest.fixture
def ci_http(transport: httpx.BaseTransport, token_for: Callable[..., str]) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token_for('ci', ['role:ci'])}"}
    return httpx.Client(transport=transport, base_url="http://hoist.test", headers=headers)


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
