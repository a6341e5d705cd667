"""What the services keep about blobs in the metadata store, on every blob store and both databases:
corrupt marks and the checked whole read, touch and collect (garbage collection's grace without
mtimes or renames), quarantine, and uploads that any server continues from the recorded offset and
hash state, expire when idle, and leave nothing visible when they fail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hoist.domain.digests import Digest
from hoist.domain.errors import (
    BlobCorrupt,
    BlobNotFound,
    ConcurrentUpdate,
    DigestMismatch,
    TooLarge,
    UploadNotFound,
    UploadOutOfOrder,
)
from hoist.domain.ports import BlobStore
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.blobs import Blobs
from hoist.services.uploads import UploadService
from hoist.storage.filesystem import FilesystemBlobStore
from hoist.storage.memory import MemoryBlobStore
from tests.conftest import put_bytes, rot, s3_store
from tests.functional.helpers import Clock

LIMIT = 64 * 1024 * 1024
CHUNK = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture(params=["memory", "filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobStore()
    if request.param == "s3":
        return s3_store(*request.getfixturevalue("s3_place"))
    return FilesystemBlobStore(tmp_path / "blobs", fsync=False)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def blobs(store: BlobStore, metadata: SqlMetadataStore, clock: Clock) -> Blobs:
    return Blobs(store, metadata, clock)


@pytest.fixture
def uploads(blobs: Blobs, metadata: SqlMetadataStore, clock: Clock) -> UploadService:
    return UploadService(blobs, metadata, max_upload_bytes=LIMIT, clock=clock)


@pytest.fixture
def other_server(store: BlobStore, database_url: str, clock: Clock) -> Iterator[tuple[Blobs, UploadService]]:
    """Another server: its own connections to the same database, the same blob store."""
    metadata = SqlMetadataStore.from_url(database_url)
    blobs = Blobs(store, metadata, clock)
    yield blobs, UploadService(blobs, metadata, max_upload_bytes=LIMIT, clock=clock)
    metadata.dispose()


def upload(uploads: UploadService, data: bytes) -> Digest:
    session = uploads.open(None)
    session.write(data)
    return session.commit(Digest.of(data)).digest


def read_whole(blobs: Blobs, digest: Digest, block: int) -> int:
    total = 0
    with blobs.open(digest) as f:
        while data := f.read(block):
            total += len(data)
    return total


# -- corrupt marks ----------------------------------------------------------------------------


def test_a_whole_read_of_rotten_bytes_fails_and_marks_the_blob_for_every_later_reader_on_every_server(
    blobs: Blobs, uploads: UploadService, store: BlobStore, other_server: tuple[Blobs, UploadService]
) -> None:
    digest = upload(uploads, CHUNK * 3)
    rot(store, digest, CHUNK * 2 + b"x" * len(CHUNK))  # same size, other bytes
    with blobs.open(digest, offset=len(CHUNK)) as f:  # a range read cannot check: it hands out what is there
        assert len(f.read(10)) == 10
    with pytest.raises(BlobCorrupt) as info:
        read_whole(blobs, digest, len(CHUNK) // 3)
    assert info.value.details["digest"] == str(digest) and str(digest) in info.value.message
    elsewhere, _ = other_server
    for server in (blobs, elsewhere):
        for later in (server.stat, server.open, server.path):
            with pytest.raises(BlobCorrupt):
                later(digest)
    assert upload(uploads, CHUNK * 3) == digest  # the good bytes again repair it
    with elsewhere.open(digest) as f:
        assert f.read() == CHUNK * 3


def test_a_read_of_exactly_the_stored_size_is_checked_too(blobs: Blobs, uploads: UploadService, store: BlobStore) -> None:
    digest = upload(uploads, b"twelve bytes")
    rot(store, digest, b"twelve BYTES")
    with pytest.raises(BlobCorrupt), blobs.open(digest) as f:
        f.read(12)
    with pytest.raises(BlobCorrupt):
        blobs.stat(digest)


def test_a_read_let_go_near_the_end_is_checked_on_close_and_one_far_from_it_is_not(
    blobs: Blobs, uploads: UploadService, store: BlobStore
) -> None:
    far, near = CHUNK * 4, bytes(range(256)) * 10240  # 4 MiB; 2.5 MiB, read up to its last 0.5
    far_digest, near_digest = upload(uploads, far), upload(uploads, near)
    rot(store, far_digest, b"X" + far[1:])
    rot(store, near_digest, b"X" + near[1:])
    with blobs.open(far_digest) as f:
        f.read(10)
    with blobs.open(near_digest) as f:
        for _ in range(32):  # 2 MiB, as a tar reader stops at its end-of-archive blocks
            f.read(64 * 1024)
    assert blobs.stat(far_digest).size == len(far)  # not read: not known, not marked
    with pytest.raises(BlobCorrupt):
        blobs.stat(near_digest)


def test_a_truncated_blob_is_corrupt_and_a_marked_blob_whose_bytes_are_gone_is_missing(
    blobs: Blobs, uploads: UploadService, store: BlobStore
) -> None:
    digest = upload(uploads, b"whole bytes")
    rot(store, digest, b"whole")
    with pytest.raises(BlobCorrupt), blobs.open(digest) as f:
        f.read()
    store.delete(digest)
    for later in (blobs.stat, blobs.open):
        with pytest.raises(BlobNotFound):
            later(digest)
    assert blobs.path(digest) is None


def test_quarantine_sets_a_corrupt_blob_aside_records_where_and_a_new_upload_stores_it_whole(
    blobs: Blobs, uploads: UploadService, store: BlobStore, metadata: SqlMetadataStore
) -> None:
    digest = upload(uploads, b"soon rotten")
    rot(store, digest, b"rotten now!")
    blobs.mark_corrupt(digest)
    assert blobs.quarantine(digest)
    assert not blobs.quarantine(digest)  # not stored any more
    with pytest.raises(BlobNotFound):
        blobs.stat(digest)
    with metadata.reader() as s:
        [(quarantined, aside)] = s.blobs.quarantined()
        assert quarantined == digest and digest.hex in aside and s.blobs.get(digest) is None
    assert upload(uploads, b"soon rotten") == digest
    with blobs.open(digest) as f:
        assert f.read() == b"soon rotten"


# -- touch and collect ------------------------------------------------------------------------


def test_touch_says_whether_the_bytes_are_stored_and_collect_takes_only_what_was_not_touched_since(
    blobs: Blobs, uploads: UploadService, clock: Clock
) -> None:
    kept, taken = upload(uploads, b"named again"), upload(uploads, b"nobody's")
    mark = clock.now + timedelta(seconds=1)
    clock.now += timedelta(hours=2)
    assert blobs.touch(kept)  # a push naming it, after the mark began
    assert blobs.collect(kept, older_than=mark) is None
    assert blobs.collect(taken, older_than=mark) == len(b"nobody's")
    assert not blobs.touch(taken)  # gone: the push that wanted it is refused
    assert blobs.collect(taken, older_than=mark) is None
    assert not blobs.touch(Digest.of(b"never stored"))
    assert set(blobs.digests()) == {kept}


def test_a_blob_stored_before_rows_were_kept_is_served_and_collected_a_grace_after_it_is_first_seen(
    blobs: Blobs, store: BlobStore, clock: Clock
) -> None:
    digest = put_bytes(store, b"from an older data folder").digest
    assert blobs.stat(digest).size == 25
    assert blobs.touched() == {}
    assert blobs.collect(digest, older_than=clock.now + timedelta(days=1)) is None  # when it came is unknown
    assert blobs.adopt([digest]) == 1 and blobs.adopt([digest]) == 0
    assert blobs.touched() == {digest: clock.now}
    assert blobs.collect(digest, older_than=clock.now) is None
    assert blobs.collect(digest, older_than=clock.now + timedelta(seconds=1)) == 25


# -- uploads ----------------------------------------------------------------------------------


def test_another_server_continues_and_finishes_an_upload_without_reading_it_again(
    uploads: UploadService, store: BlobStore, other_server: tuple[Blobs, UploadService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """skopeo and docker PATCH every byte, then PUT an empty body, and each request may reach another
    server: it takes up the offset and the hash state the last one recorded."""
    session = uploads.open(None)
    session.write(CHUNK)
    session.close()

    def no_rereading(key: str) -> None:
        raise AssertionError("the upload was read again")

    monkeypatch.setattr(store, "read_upload", no_rereading)
    elsewhere, continued = other_server
    assert continued.state(session.upload_id).size == len(CHUNK)
    more = continued.open(session.upload_id, offset=len(CHUNK))
    more.write(b"and the rest")
    more.close()
    info = uploads.open(session.upload_id, offset=len(CHUNK) + 12, length=0).commit(Digest.of(CHUNK + b"and the rest"))
    assert info.size == len(CHUNK) + 12
    with elsewhere.open(info.digest) as f:
        assert f.read() == CHUNK + b"and the rest"
    with pytest.raises(UploadNotFound):
        continued.state(session.upload_id)


def test_a_wrong_digest_publishes_nothing_and_discards_the_upload(
    blobs: Blobs, uploads: UploadService, store: BlobStore
) -> None:
    session = uploads.open(None)
    session.write(b"real bytes")
    with pytest.raises(DigestMismatch) as info:
        session.commit(Digest.of(b"other bytes"))
    assert info.value.details["actual"] == str(Digest.of(b"real bytes"))
    assert list(blobs.digests()) == [] and list(store.uploads()) == []
    with pytest.raises(UploadNotFound):
        uploads.state(session.upload_id)


def test_sha512_is_verified_by_reading_the_upload_through_the_store(uploads: UploadService, blobs: Blobs) -> None:
    session = uploads.open(None)
    session.write(b"sha512 please")
    digest = session.commit(Digest.of(b"sha512 please", "sha512")).digest
    assert digest.algorithm == "sha512" and blobs.stat(digest).size == 13
    wrong = uploads.open(None)
    wrong.write(b"sha512 please")
    with pytest.raises(DigestMismatch):
        wrong.commit(Digest.of(b"something else", "sha512"))


def test_one_writer_per_upload_in_order_and_within_the_limit(
    uploads: UploadService, other_server: tuple[Blobs, UploadService], store: BlobStore
) -> None:
    session = uploads.open(None)
    session.write(b"abc")
    _, continued = other_server
    with pytest.raises(ConcurrentUpdate):
        continued.open(session.upload_id)
    session.close()
    with pytest.raises(UploadOutOfOrder) as info:
        continued.open(session.upload_id, offset=1)
    assert info.value.details["offset"] == 3
    with pytest.raises(TooLarge):
        continued.open(session.upload_id, offset=3, length=LIMIT)
    with pytest.raises(UploadNotFound):  # a refused length discards the upload
        uploads.state(session.upload_id)
    assert list(store.uploads()) == []


def test_a_crash_mid_upload_leaves_nothing_visible_and_the_upload_resumes_where_it_was_recorded(
    uploads: UploadService, blobs: Blobs, store: BlobStore, metadata: SqlMetadataStore
) -> None:
    session = uploads.open(None)
    session.write(b"recorded")
    session.close()
    with metadata.reader() as s:
        record = s.uploads.get(session.upload_id)
    assert record is not None
    crashed = store.append(record.key, 8)  # a server wrote more, then died before it recorded them
    crashed.write(b" and lost")
    crashed.close()
    assert list(blobs.digests()) == []
    assert uploads.state(session.upload_id).size == 8
    resumed = uploads.open(session.upload_id, offset=8)
    resumed.write(b", then resumed")
    assert resumed.commit(Digest.of(b"recorded, then resumed")).size == 22


def test_idle_uploads_expire_and_are_reported_and_one_being_written_never_is(
    uploads: UploadService, store: BlobStore, clock: Clock
) -> None:
    abandoned, written = uploads.open(None), uploads.open(None)
    abandoned.write(b"half an upload")
    abandoned.close()
    written.write(b"still coming")
    clock.now += timedelta(hours=25)
    written.write(b", slowly")  # more than a heartbeat since the last record: recorded now
    idle_since = clock.now - uploads.expire_after
    assert [(u.upload_id, u.size) for u in uploads.expire(idle_since=idle_since, dry_run=True)] == [
        (abandoned.upload_id, 14)
    ]
    assert {u.key for u in store.uploads()} != set()  # a dry run reclaims nothing
    expired = uploads.expire(idle_since=idle_since)
    assert [(u.upload_id, u.size) for u in expired] == [(abandoned.upload_id, 14)]
    with pytest.raises(UploadNotFound):
        uploads.state(abandoned.upload_id)
    assert uploads.expire(idle_since=idle_since) == []
    written.write(b", and done")
    assert written.commit(Digest.of(b"still coming, slowly, and done")).size == 30
    assert list(store.uploads()) == []


def test_uploads_the_store_holds_and_no_record_names_are_reclaimed_once_old(
    uploads: UploadService, store: BlobStore, clock: Clock
) -> None:
    """A crash between creating an upload in the store and recording it, or one from before records."""
    key = store.create_upload()
    writer = store.append(key, 0)
    writer.write(b"12345")
    writer.close()
    assert uploads.expire(idle_since=clock.now - timedelta(hours=24)) == []  # young: maybe being recorded
    [expired] = uploads.expire(idle_since=clock.now + timedelta(days=2))
    assert (expired.upload_id, expired.size) == (key, 5)
    assert list(store.uploads()) == []
