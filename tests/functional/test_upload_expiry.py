"""Uploads abandoned by a crash (a one-shot POST whose body never arrived whole, a chunked upload never
finished) expire after ``[uploads] expire_hours`` idle: their ids are unknown from then on, and garbage
collection (alone or in ``maintenance run``) reclaims them and reports what it reclaimed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from click.testing import CliRunner

from hoist.app import Services, build_services
from hoist.cli.context import Cli
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain.digests import Digest
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.asgi import SyncASGITransport
from tests.functional.helpers import Clock
from tests.functional.oci_helpers import oci_error


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(settings: Settings, metadata: SqlMetadataStore, blobs: FilesystemBlobStore, clock: Clock) -> Services:
    return build_services(settings, metadata, blobs, clock)


@pytest.fixture
def dana(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[httpx.Client]:
    """A developer: may upload to dev, the least an upload needs."""
    headers = {"Authorization": f"Bearer {token_for('dana', ['role:developer'])}"}
    with httpx.Client(transport=transport, base_url="http://hoist.test", headers=headers) as http:
        yield http


def abandon_two_uploads(dana: httpx.Client) -> tuple[str, str]:
    """A chunked upload left after its first chunk, and a one-shot upload whose body never arrived whole."""
    started = dana.post("/v2/dev/shop/api/blobs/uploads/")
    chunked = started.headers["location"]
    assert dana.patch(chunked, content=b"x" * 1000, headers={"Content-Range": "0-999"}).status_code == 202
    data = b"y" * 500
    one_shot = dana.post(
        "/api/v1/uploads", params={"digest": str(Digest.of(data * 2))}, content=data, headers={"Content-Length": "1000"}
    )
    assert one_shot.status_code == 400, one_shot.text  # the client crashed mid-body; the server kept 500 bytes
    return chunked, one_shot.json()["error"]["details"]["upload_id"]


def test_an_upload_idle_past_expire_hours_is_unknown_and_gc_reclaims_it(
    dana: httpx.Client, client: HoistClient, clock: Clock, blobs: FilesystemBlobStore
) -> None:
    chunked, one_shot = abandon_two_uploads(dana)
    clock.now += timedelta(hours=23)  # idle, but not for long enough: resumable
    assert dana.get(chunked).status_code == 204
    assert dana.get(f"/api/v1/uploads/{one_shot}").json()["offset"] == 500
    report = client.collect_garbage()
    assert report["uploads_expired"] == 0 and report["uploads_in_progress"] == 2
    clock.now += timedelta(hours=2)
    for answer in (dana.get(chunked), dana.patch(chunked, content=b"z", headers={"Content-Range": "1000-1000"})):
        assert answer.status_code == 404 and oci_error(answer) == "BLOB_UPLOAD_UNKNOWN"
    expired = dana.get(f"/api/v1/uploads/{one_shot}")
    assert expired.status_code == 404 and expired.json()["error"]["code"] == "UPLOAD_UNKNOWN"
    assert "expired" in expired.json()["error"]["message"]
    planned = client.collect_garbage(dry_run=True)
    assert (planned["uploads_expired"], planned["upload_bytes_reclaimed"]) == (2, 1500)
    assert len(list(blobs.uploads())) == 2  # a dry run reclaims nothing
    report = client.collect_garbage()
    assert (report["uploads_expired"], report["upload_bytes_reclaimed"], report["uploads_in_progress"]) == (2, 1500, 0)
    assert list((blobs.root / "uploads").iterdir()) == []
    event = [json.loads(line) for line in client.export_lines()][-1]
    assert event["action"] == "blobs:collect"
    assert (event["details"]["uploads_expired"], event["details"]["upload_bytes_reclaimed"]) == (2, 1500)


def test_maintenance_reclaims_expired_uploads_and_the_cli_says_so(
    dana: httpx.Client, client: HoistClient, clock: Clock
) -> None:
    abandon_two_uploads(dana)
    clock.now += timedelta(hours=25)
    out = CliRunner().invoke(cli, ["maintenance", "run", "--skip-drill"], obj=Cli(_client=client, progress=False))
    assert out.exit_code == 0, out.output
    assert "2 expired upload(s), 1,500 bytes" in out.output
    out = CliRunner().invoke(cli, ["gc"], obj=Cli(_client=client, progress=False))
    assert out.exit_code == 0 and "0 expired upload(s)" in out.output


@pytest.mark.parametrize("config_text", ["[uploads]\nexpire_hours = 1\n"])
def test_expire_hours_comes_from_the_configuration(settings: Settings, dana: httpx.Client, clock: Clock) -> None:
    assert settings.upload_expire_hours == 1
    chunked, _ = abandon_two_uploads(dana)
    clock.now += timedelta(minutes=50)
    assert dana.get(chunked).status_code == 204
    clock.now += timedelta(minutes=20)
    assert dana.get(chunked).status_code == 404
