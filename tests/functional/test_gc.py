"""Garbage collection: what a purged version leaves is reclaimed, everything live stays, and a
collection running during uploads and pushes never deletes a blob they need."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hoist.app import Services, build_services
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.domain.models import ArtifactRef, FileEntry
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.collection import GarbageCollector
from hoist.storage.filesystem import FilesystemBlobStore
from tests.conftest import ADMIN
from tests.functional.helpers import Clock, push
from tests.functional.oci_helpers import image_manifest, put_manifest


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
    collector = GarbageCollector(metadata, blobs, services.guard, clock, grace=timedelta(seconds=2))
    past = time.time() - 86400
    old = []
    for i in range(40):
        data = f"old unreferenced blob {i}".encode() * 50
        writer = blobs.writer()
        writer.write(data)
        info = writer.commit(Digest.of(data))
        os.utime(blobs.path(info.digest), (past, past))  # type: ignore[arg-type]
        old.append(info)
    stop = threading.Event()
    published: list[str] = []
    uploaded: list[Digest] = []
    refused: list[Digest] = []
    failures: list[BaseException] = []

    def pusher() -> None:
        try:
            for i, info in enumerate(old):
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
                writer = blobs.writer()
                writer.write(data[:2000])
                time.sleep(0.005)
                writer.write(data[2000:])
                uploaded.append(writer.commit(Digest.of(data)).digest)  # verifies every byte is there
        except BaseException as exc:
            failures.append(exc)
        finally:
            stop.set()

    def sweeper() -> None:
        try:
            while not stop.is_set():
                clock.now = datetime.now(UTC)
                collector.collect(ADMIN)
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
