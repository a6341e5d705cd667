"""Garbage collection: what a purged version leaves is reclaimed, everything live stays, a
collection running during uploads and pushes never deletes a blob they need, and uploads abandoned
for longer than ``[uploads] expire_hours`` are reclaimed and reported."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoist.app import Services, build_services
from hoist.cli.context import Cli
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.domain.models import ArtifactRef, FileEntry
from hoist.domain.ports import BlobInfo
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.collection import GarbageCollector
from hoist.storage.filesystem import FilesystemBlobStore
from tests.asgi import SyncASGITransport
from tests.conftest import ADMIN, put_bytes
from tests.functional.helpers import Clock, push
from tests.functional.oci_helpers import LAYER, image_manifest, oci_error, put_manifest


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(settings: Settings, metadata: SqlMetadataStore, blobs: FilesystemBlobStore, clock: Clock) -> Services:
    return build_services(settings, metadata, blobs, clock)


@pytest.fixture
def config_text() -> str:
    return """
[registries.dev]
direct_push = true
movable_tags = true
retention = { keep_last = 1, trash_days = 1 }
[environments.dev]
registry = "dev"
[ceilings]
snapshot = "dev"
rc = "dev"
release = "dev"
"""


def test_a_purged_version_s_blobs_are_reclaimed_and_nothing_live_is(
    client: HoistClient, http: httpx.Client, services: Services, blobs: FilesystemBlobStore, clock: Clock, tmp_path: Path
) -> None:
    push(client, tmp_path, version="1.0.0", content=b"old build" * 1000)
    image = image_manifest(http, "dev/shop/api", layer_size=5000)
    put_manifest(http, "dev/shop/api", "1.0.0", image)
    clock.now += timedelta(days=1)
    push(client, tmp_path, version="1.1.0", content=b"new build")
    put_manifest(http, "dev/shop/api", "1.1.0", image_manifest(http, "dev/shop/api"))
    clock.now += timedelta(days=1)
    stored_before = set(blobs.digests())
    # retention takes 1.0.0 of both packages into the trash: still restorable, so still live
    assert len(client.retention_apply("dev")[0]["trashed"]) == 2
    clock.now += timedelta(hours=2)  # past the grace period
    assert client.collect_garbage()["collected"] == 0
    clock.now += timedelta(days=1)
    assert len(client.purge_trash()) == 2
    sizes = {d: blobs.stat(d).size for d in blobs.digests()}
    preview = client.collect_garbage(dry_run=True)
    assert set(blobs.digests()) == stored_before  # a dry run deletes nothing
    report = client.collect_garbage()
    gone = {Digest.parse(d) for d in report["blobs"]}
    assert report["collected"] == preview["collected"] == len(gone)
    assert gone == stored_before - set(blobs.digests())
    assert report["bytes_freed"] == sum(sizes[d] for d in gone)
    old_layers = {Digest.parse(x["digest"]) for x in json.loads(image)["layers"]}  # (its config is 1.1.0's too)
    assert old_layers <= gone and Digest.of(b"old build" * 1000) in gone  # and the SBOMs made for the 1.0.0s
    # what 1.1.0 needs is all there, and pulls
    assert http.get("/v2/dev/shop/api/manifests/1.1.0").status_code == 200
    assert client.artifact("shop-api@1.1.0")["files"][0]["digest"] not in report["blobs"]
    events = [ev for ev in _events(client) if ev["action"] == "blobs:collect"]
    assert events[-1]["details"]["bytes_freed"] == report["bytes_freed"]


def _events(client: HoistClient) -> list[dict[str, object]]:
    return [json.loads(line) for line in client.export_lines()]


def test_only_an_administrator_collects(client_as: Callable[..., HoistClient]) -> None:
    with pytest.raises(e.Denied, match="needs admin"):
        client_as("dana", ["role:developer"]).collect_garbage(dry_run=True)


def test_collection_during_uploads_and_pushes_never_deletes_what_they_need(
    services: Services, metadata: SqlMetadataStore, blobs: FilesystemBlobStore, clock: Clock
) -> None:
    """Old, unreferenced blobs are named again by new artifacts while a collector sweeps in a loop
    with a grace period of 2 s (longer than a push takes from touching its blobs to committing),
    and uploads in progress span collections: every artifact that committed has every blob, and
    every upload commits whole."""
    collector = GarbageCollector(
        metadata, services.blobs, services.uploads, services.guard, clock, grace=timedelta(seconds=2)
    )
    old: list[BlobInfo] = []

    def old_blob(i: int) -> BlobInfo:
        """An unreferenced blob a day old: the collector may take it the moment it sees it."""
        data = f"old unreferenced blob {i}".encode() * 50
        info = blobs.stat(services.blobs.put(data))
        with metadata.session() as s:
            s.blobs.touch(info.digest, now=datetime.now(UTC) - timedelta(days=1))
        old.append(info)
        return info

    stop = threading.Event()
    published: list[str] = []
    uploaded: list[Digest] = []
    refused: list[Digest] = []
    failures: list[BaseException] = []

    def pusher() -> None:
        try:
            for i in range(40):  # each push races the sweeps running at that moment, not only the first
                info = old_blob(i)
                time.sleep(random.uniform(0, 0.03))  # a sweep may or may not see it first: both happen
                try:
                    result = services.publisher.publish(
                        registry="dev",
                        package="raced",
                        version=f"1.{i}.0",
                        files=[FileEntry("b", info.digest, info.size)],
                        actor=ADMIN,
                    )
                    published.append(result.artifact.ref)
                except e.BlobNotFound:  # collected before the push touched it: refused, nothing committed
                    refused.append(info.digest)
                data = os.urandom(4000)  # an upload in progress across collections
                session = services.uploads.open(None)
                session.write(data[:2000])
                session.close()
                time.sleep(0.005)
                session = services.uploads.open(session.upload_id, offset=2000)
                session.write(data[2000:])
                uploaded.append(session.commit(Digest.of(data)).digest)  # verifies every byte is there
        except BaseException as exc:
            failures.append(exc)
        finally:
            stop.set()

    def sweeper() -> None:
        try:
            while not stop.is_set():
                clock.now = datetime.now(UTC)
                collector.collect(ADMIN)
                time.sleep(random.uniform(0, 0.03))  # sweeps at varying moments, so pushes both win and lose
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=pusher), threading.Thread(target=sweeper)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    assert published, "no push won the race at all: the test proved nothing"
    for digest in refused:  # a refused push left nothing that names the blob
        assert not services.metadata.hot.blob_registries(str(digest))
    for ref in published:
        files = services.catalog.describe(ArtifactRef.parse(ref), actor=ADMIN).files
        for f in files:
            blobs.stat(f.digest)  # raises if a committed artifact lost a blob
    assert len(uploaded) == len(old)  # every upload in progress committed whole, collections or not


# Uploads abandoned by a crash (a one-shot POST whose body never arrived whole, a chunked upload never
# finished) expire after [uploads] expire_hours idle: unknown from then on, reclaimed and reported by gc.


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


def test_blobs_of_a_data_folder_from_before_blob_records_are_served_and_collected_a_grace_after_first_seen(
    client: HoistClient,
    dana: httpx.Client,
    blobs: FilesystemBlobStore,
    metadata: SqlMetadataStore,
    clock: Clock,
    tmp_path: Path,
) -> None:
    """An upgrade keeps a data folder working: blobs the database has no record of yet are served, and
    garbage collection counts them as first seen on its first run (not knowing when they came)."""
    push(client, tmp_path, version="1.0.0", content=b"pushed before the upgrade")
    named = Digest.parse(client.artifact("shop-api@1.0.0")["files"][0]["digest"])
    unnamed = put_bytes(blobs, b"left over before the upgrade").digest
    with metadata.session() as s:
        for digest in (named, unnamed):
            s.blobs.forget(digest)  # as migration 0009 found them: no record
    assert dana.get(f"/api/v1/blobs/{named}").content == b"pushed before the upgrade"
    clock.now += timedelta(days=30)
    assert client.collect_garbage()["collected"] == 0  # first seen now
    clock.now += timedelta(hours=2)
    assert client.collect_garbage()["blobs"] == [str(unnamed)]
    assert dana.get(f"/api/v1/blobs/{named}").content == b"pushed before the upgrade"


def test_the_record_a_refused_push_left_of_a_blob_never_stored_goes_a_grace_later(
    http: httpx.Client, client: HoistClient, metadata: SqlMetadataStore, clock: Clock
) -> None:
    image = json.loads(image_manifest(http, "dev/shop/api"))
    ghost = Digest.of(b"never uploaded")
    image["layers"].append({"mediaType": LAYER, "digest": str(ghost), "size": 14})
    answer = put_manifest(http, "dev/shop/api", "2.0.0", json.dumps(image).encode())
    assert answer.status_code == 400 and oci_error(answer) == "MANIFEST_BLOB_UNKNOWN"
    with metadata.reader() as s:
        assert s.blobs.get(ghost) is not None  # touched before the push knew: a collection keeps it a while
    client.collect_garbage()
    with metadata.reader() as s:
        assert s.blobs.get(ghost) is not None
    clock.now += timedelta(hours=2)
    client.collect_garbage()
    with metadata.reader() as s:
        assert s.blobs.get(ghost) is None
