"""The blob store contract: every implementation passes exactly this suite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt, BlobNotFound, ConcurrentUpdate, DigestMismatch, UploadNotFound
from hoist.domain.ports import BlobStore
from hoist.storage import filesystem
from hoist.storage.filesystem import FilesystemBlobStore, FilesystemBlobWriter
from hoist.storage.memory import MemoryBlobStore

Factory = Callable[[], BlobStore]


@pytest.fixture(params=["memory", "filesystem"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """A factory, so that a test can reopen the same store (a 'restart')."""
    if request.param == "memory":
        store = MemoryBlobStore()
        return lambda: store
    return lambda: FilesystemBlobStore(tmp_path / "blobs", fsync=True)


@pytest.fixture
def store(make_store: Factory) -> BlobStore:
    return make_store()


def put(store: BlobStore, data: bytes) -> Digest:
    writer = store.writer()
    writer.write(data)
    return writer.commit(Digest.of(data)).digest


def read_whole(store: BlobStore, digest: Digest, block: int) -> int:
    total = 0
    with store.open(digest) as f:
        while data := f.read(block):
            total += len(data)
    return total


def rot(store: BlobStore, digest: Digest, data: bytes) -> None:
    """The fault: the medium under the store changes a blob's bytes (bit rot, a hand editing a file)."""
    if isinstance(store, FilesystemBlobStore):
        path = store.path(digest)
        assert path is not None
        path.write_bytes(data)
    else:
        assert isinstance(store, MemoryBlobStore)
        store._blobs[digest] = data  # the memory store's medium is its dict


def test_a_committed_blob_can_be_read_whole_and_from_an_offset(store: BlobStore) -> None:
    data = b"hello hoist " * 1000
    digest = put(store, data)
    assert store.stat(digest).size == len(data)
    with store.open(digest) as f:
        assert f.read() == data
    with store.open(digest, offset=6) as f:
        assert f.read() == data[6:]
    assert digest in set(store.digests())


def test_nothing_is_visible_before_commit(store: BlobStore) -> None:
    writer = store.writer()
    writer.write(b"partial")
    digest = Digest.of(b"partial")
    with pytest.raises(BlobNotFound):
        store.stat(digest)
    assert digest not in set(store.digests())
    writer.commit(digest)
    assert store.stat(digest).size == 7


def test_a_wrong_digest_publishes_nothing_and_discards_the_upload(store: BlobStore) -> None:
    writer = store.writer()
    writer.write(b"real bytes")
    wrong = Digest.of(b"other bytes")
    with pytest.raises(DigestMismatch) as info:
        writer.commit(wrong)
    assert info.value.details["actual"] == str(Digest.of(b"real bytes"))
    assert list(store.digests()) == []
    with pytest.raises(UploadNotFound):
        store.upload_state(writer.upload_id)


def test_uploads_resume_across_writers_and_restarts(make_store: Factory) -> None:
    store = make_store()
    writer = store.writer()
    writer.write(b"first half, ")
    writer.close()
    reopened_store = make_store()  # a new process would see the same folder
    assert reopened_store.upload_state(writer.upload_id).size == 12
    again = reopened_store.writer(writer.upload_id)
    assert again.size == 12
    again.write(b"second half")
    info = again.commit(Digest.of(b"first half, second half"))
    assert info.size == 23
    with reopened_store.open(info.digest) as f:
        assert f.read() == b"first half, second half"


def test_one_writer_per_upload_at_a_time(store: BlobStore) -> None:
    writer = store.writer()
    with pytest.raises(ConcurrentUpdate):
        store.writer(writer.upload_id)
    writer.close()
    store.writer(writer.upload_id).close()


def test_cancel_discards_and_unknown_uploads_are_reported(store: BlobStore) -> None:
    writer = store.writer()
    writer.write(b"x")
    writer.cancel()
    with pytest.raises(UploadNotFound):
        store.writer(writer.upload_id)
    with pytest.raises(UploadNotFound):
        store.writer("0" * 32)
    with pytest.raises(UploadNotFound):
        store.upload_state("../../etc")


def test_in_progress_uploads_are_listed(store: BlobStore) -> None:
    a, b = store.writer(), store.writer()
    a.write(b"aaa")
    a.close()
    b.close()
    states = {s.upload_id: s.size for s in store.uploads()}
    assert states == {a.upload_id: 3, b.upload_id: 0}


def test_the_same_bytes_twice_are_stored_once(store: BlobStore) -> None:
    assert put(store, b"same") == put(store, b"same")
    assert list(store.digests()) == [Digest.of(b"same")]


def test_sha512_and_empty_blobs(store: BlobStore) -> None:
    writer = store.writer()
    writer.write(b"sha512 please")
    digest = writer.commit(Digest.of(b"sha512 please", "sha512")).digest
    assert digest.algorithm == "sha512" and store.stat(digest).size == 13
    empty = store.writer().commit(Digest.of(b""))
    assert empty.size == 0


def test_delete_is_idempotent(store: BlobStore) -> None:
    digest = put(store, b"gone soon")
    store.delete(digest)
    store.delete(digest)
    with pytest.raises(BlobNotFound):
        store.open(digest)


def test_large_blob_in_many_chunks(store: BlobStore) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB
    writer = store.writer()
    for _ in range(8):
        writer.write(chunk)
    writer.close()
    writer = store.writer(writer.upload_id)  # resumed mid-way, as a chunked upload does
    for _ in range(8):
        writer.write(chunk)
    info = writer.commit(Digest.of(chunk * 16))
    assert info.size == 16 * len(chunk)


def test_concurrent_uploads_of_the_same_content_all_succeed(store: BlobStore) -> None:
    data = b"raced" * 10000
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            put(store, data)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(store.digests()) == [Digest.of(data)]


def test_filesystem_layout_is_sharded_by_digest(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    digest = put(store, b"where am I")
    assert (tmp_path / "blobs" / "sha256" / digest.hex[:2] / digest.hex).read_bytes() == b"where am I"
    assert store.path(digest) == tmp_path / "blobs" / "sha256" / digest.hex[:2] / digest.hex


def test_another_worker_finishes_an_upload_without_re_reading_what_was_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """skopeo and docker PATCH every byte, then PUT an empty body, which may reach another worker
    process: it takes the digest the first one recorded instead of reading the whole upload again."""
    first = FilesystemBlobStore(tmp_path)
    writer = first.writer()
    writer.write(b"all the bytes, " * 1000)
    writer.close()
    other = FilesystemBlobStore(tmp_path)  # another process: an empty hash cache, the same folder

    def no_rereading(self: FilesystemBlobWriter, algorithm: str = "sha256") -> None:
        raise AssertionError("the upload was read again")

    monkeypatch.setattr(FilesystemBlobWriter, "_rehash", no_rereading)
    assert other.writer(writer.upload_id).commit(Digest.of(b"all the bytes, " * 1000)).size == 15000
    monkeypatch.undo()

    # a record that covers fewer bytes than the upload holds (bytes appended without a record, as
    # after a crash between the write and the record) is not trusted: the bytes are read again
    stale = first.writer()
    stale.write(b"recorded")
    stale.close()
    with (tmp_path / "uploads" / stale.upload_id / "data").open("ab") as data:
        data.write(b" and more")
    resumed = FilesystemBlobStore(tmp_path).writer(stale.upload_id)
    with pytest.raises(DigestMismatch):
        resumed.commit(Digest.of(b"recorded"))
    again = FilesystemBlobStore(tmp_path).writer()
    again.write(b"recorded")
    again.close()
    with (tmp_path / "uploads" / again.upload_id / "data").open("ab") as data:
        data.write(b" and more")
    assert FilesystemBlobStore(tmp_path).writer(again.upload_id).commit(Digest.of(b"recorded and more")).size == 17


def test_a_blob_knows_when_it_was_stored(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    info = store.stat(put(store, b"dated"))
    assert info.stored_at is not None and before <= info.stored_at <= datetime.now(UTC) + timedelta(seconds=2)


def test_a_whole_read_of_rotten_bytes_fails_and_marks_the_blob_for_every_later_reader(store: BlobStore) -> None:
    chunk = bytes(range(256)) * 4096
    digest = put(store, chunk * 3)
    rot(store, digest, chunk * 2 + b"x" * len(chunk))  # same size, other bytes
    with store.open(digest, offset=len(chunk)) as f:  # a range read cannot check: it hands out what is there
        assert len(f.read(10)) == 10
    with pytest.raises(BlobCorrupt) as info:
        read_whole(store, digest, len(chunk) // 3)
    assert info.value.details["digest"] == str(digest) and str(digest) in info.value.message
    for later in (store.stat, store.open, store.path):
        with pytest.raises(BlobCorrupt):
            later(digest)
    assert put(store, chunk * 3) == digest  # the good bytes again repair it
    with store.open(digest) as f:
        assert f.read() == chunk * 3


def test_a_read_of_exactly_the_stored_size_is_checked_too(store: BlobStore) -> None:
    digest = put(store, b"twelve bytes")
    rot(store, digest, b"twelve BYTES")
    with pytest.raises(BlobCorrupt), store.open(digest) as f:
        f.read(12)
    with pytest.raises(BlobCorrupt):
        store.stat(digest)


def test_a_read_let_go_near_the_end_is_checked_on_close_and_one_far_from_it_is_not(store: BlobStore) -> None:
    far, near = bytes(range(256)) * 16384, bytes(range(256)) * 10240  # 4 MiB; 2.5 MiB, read up to its last 0.5
    far_digest, near_digest = put(store, far), put(store, near)
    rot(store, far_digest, b"X" + far[1:])
    rot(store, near_digest, b"X" + near[1:])
    with store.open(far_digest) as f:
        f.read(10)
    with store.open(near_digest) as f:
        for _ in range(32):  # 2 MiB, as a tar reader stops at its end-of-archive blocks
            f.read(64 * 1024)
    assert store.stat(far_digest).size == len(far)  # not read: not known, not marked
    with pytest.raises(BlobCorrupt):
        store.stat(near_digest)


def test_a_truncated_blob_is_corrupt(store: BlobStore) -> None:
    digest = put(store, b"whole bytes")
    rot(store, digest, b"whole")
    with pytest.raises(BlobCorrupt), store.open(digest) as f:
        f.read()


def test_uploads_nothing_wrote_to_since_a_time_are_expired_and_reported(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    chunked, empty = store.writer(), store.writer()
    chunked.write(b"half an upload")
    chunked.close()
    empty.close()
    state = store.upload_state(chunked.upload_id)
    assert state.started_at <= state.updated_at <= datetime.now(UTC) + timedelta(seconds=2)
    assert store.expire_uploads(idle_since=before) == []  # written to since: kept
    assert {s.upload_id for s in store.uploads()} == {chunked.upload_id, empty.upload_id}
    expired = store.expire_uploads(idle_since=datetime.now(UTC) + timedelta(seconds=5))
    assert {s.upload_id: s.size for s in expired} == {chunked.upload_id: 14, empty.upload_id: 0}
    assert list(store.uploads()) == []
    for upload_id in (chunked.upload_id, empty.upload_id):
        with pytest.raises(UploadNotFound):
            store.upload_state(upload_id)
        with pytest.raises(UploadNotFound):
            store.writer(upload_id)
    assert store.expire_uploads(idle_since=datetime.now(UTC) + timedelta(seconds=5)) == []


def test_an_upload_being_written_is_never_expired(store: BlobStore) -> None:
    writer = store.writer()
    writer.write(b"still coming")
    assert store.expire_uploads(idle_since=datetime.now(UTC) + timedelta(hours=1)) == []
    writer.write(b", and done")
    assert writer.commit(Digest.of(b"still coming, and done")).size == 22


def test_expiry_does_not_touch_the_lock_of_an_upload_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A collection running while a client uploads must not take the upload's lock even briefly: its
    writer, opening the upload at that moment, would be refused as a concurrent writer."""
    store = FilesystemBlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"in use")
    writer.close()
    locked: list[int] = []
    monkeypatch.setattr(filesystem.fcntl, "flock", lambda fd, operation: locked.append(operation))
    assert store.expire_uploads(idle_since=datetime.now(UTC) - timedelta(hours=1)) == []
    assert locked == []
    monkeypatch.undo()
    assert store.writer(writer.upload_id).commit(Digest.of(b"in use")).size == 6


def test_an_upload_folder_a_crash_left_half_made_is_expired_too(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    (tmp_path / "uploads" / ("a" * 32)).mkdir()  # the process died between mkdir and writing its files
    (tmp_path / "uploads" / ("b" * 32)).mkdir()
    (tmp_path / "uploads" / ("b" * 32) / "data").write_bytes(b"12345")
    (tmp_path / "uploads" / f".{'c' * 32}.expired-1234").mkdir()  # an expiry the crash cut short
    expired = store.expire_uploads(idle_since=datetime.now(UTC) + timedelta(seconds=5))
    assert sorted((s.upload_id, s.size) for s in expired) == [("a" * 32, 0), ("b" * 32, 5)]
    assert list((tmp_path / "uploads").iterdir()) == []
