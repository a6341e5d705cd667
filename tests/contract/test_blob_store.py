"""The blob store contract: every implementation passes exactly this suite, method by method.

A store keeps bytes only (what they mean is the metadata store's: tests/functional/test_blob_state.py).
Another store joins by one more entry in ``make_store``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobNotFound, ConcurrentUpdate, UploadNotFound
from hoist.domain.ports import BlobStore
from hoist.storage.filesystem import FilesystemBlobStore
from hoist.storage.memory import MemoryBlobStore
from tests.conftest import put_bytes, rot, s3_store
from tests.seaweedfs import SeaweedServer

Factory = Callable[[], BlobStore]


@pytest.fixture(params=["memory", "filesystem", "s3"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """A factory, so that a test can reopen the same store (a restart, another server)."""
    if request.param == "memory":
        store = MemoryBlobStore()
        return lambda: store
    if request.param == "s3":  # SeaweedFS, a bucket per test; each call: another client, as another server's
        server, prefix = request.getfixturevalue("s3_place")
        return lambda: s3_store(server, prefix)
    return lambda: FilesystemBlobStore(tmp_path / "blobs", fsync=True)


@pytest.fixture
def store(make_store: Factory) -> BlobStore:
    return make_store()


def put(store: BlobStore, data: bytes) -> Digest:
    return put_bytes(store, data).digest


def upload(store: BlobStore, data: bytes) -> str:
    key = store.create_upload()
    writer = store.append(key, 0)
    writer.write(data)
    writer.close()
    return key


def read_upload(store: BlobStore, key: str) -> bytes:
    with store.read_upload(key) as f:
        return f.read()


# -- stat, open, path, download_url, digests --------------------------------------------------


def test_a_committed_blob_is_stated_read_whole_and_from_an_offset_and_listed(store: BlobStore) -> None:
    data = b"hello hoist " * 1000
    digest = put(store, data)
    assert store.stat(digest).size == len(data) and store.stat(digest).digest == digest
    with store.open(digest) as f:
        assert f.read() == data
    with store.open(digest, offset=6) as f:
        assert f.read() == data[6:]
    with store.open(digest, offset=len(data)) as f:
        assert f.read() == b""
    assert list(store.digests()) == [digest]


def test_an_absent_blob_is_not_found_by_stat_and_open(store: BlobStore) -> None:
    absent = Digest.of(b"never stored")
    with pytest.raises(BlobNotFound):
        store.stat(absent)
    with pytest.raises(BlobNotFound):
        store.open(absent)
    assert store.path(absent) is None
    assert list(store.digests()) == []


def test_open_hands_out_the_bytes_as_stored_unchecked(store: BlobStore) -> None:
    """Checking is the service's (``services/blobs``): the port reads what is there."""
    digest = put(store, b"twelve bytes")
    rot(store, digest, b"twelve BYTES")
    with store.open(digest) as f:
        assert f.read() == b"twelve BYTES"


def test_a_local_path_when_there_is_one_holds_the_bytes(store: BlobStore) -> None:
    digest = put(store, b"where am I")
    path = store.path(digest)
    assert path is None or path.read_bytes() == b"where am I"


def test_a_download_url_when_there_is_one_is_a_url(store: BlobStore) -> None:
    url = store.download_url(put(store, b"fetch me"), expires_in=60)
    assert url is None or url.startswith(("http://", "https://"))


def test_sha512_and_empty_blobs(store: BlobStore) -> None:
    key = upload(store, b"sha512 please")
    digest = store.commit_upload(key, Digest.of(b"sha512 please", "sha512")).digest
    assert digest.algorithm == "sha512" and store.stat(digest).size == 13
    assert store.commit_upload(store.create_upload(), Digest.of(b"")).size == 0
    assert set(store.digests()) == {digest, Digest.of(b"")}


# -- delete, set_aside ------------------------------------------------------------------------


def test_delete_is_idempotent(store: BlobStore) -> None:
    digest = put(store, b"gone soon")
    store.delete(digest)
    store.delete(digest)
    with pytest.raises(BlobNotFound):
        store.open(digest)
    assert list(store.digests()) == []


def test_a_blob_set_aside_is_out_of_the_store_and_says_where_it_went(store: BlobStore) -> None:
    digest = put(store, b"rotten, kept for a look")
    aside = store.set_aside(digest)
    assert aside and digest.hex in aside
    with pytest.raises(BlobNotFound):
        store.stat(digest)
    assert list(store.digests()) == []
    assert store.set_aside(digest) is None  # not stored (any more)
    assert put(store, b"rotten, kept for a look") == digest  # stored again whole: a new blob


# -- uploads ----------------------------------------------------------------------------------


def test_nothing_is_visible_before_commit(store: BlobStore) -> None:
    key = upload(store, b"partial")
    digest = Digest.of(b"partial")
    with pytest.raises(BlobNotFound):
        store.stat(digest)
    assert list(store.digests()) == []
    assert store.commit_upload(key, digest).size == 7
    assert store.stat(digest).size == 7


def test_a_commit_ends_the_upload_and_an_unknown_one_cannot_be_committed(store: BlobStore) -> None:
    key = upload(store, b"once")
    store.commit_upload(key, Digest.of(b"once"))
    for gone in (key, "0" * 32, "../../etc"):
        with pytest.raises(UploadNotFound):
            store.commit_upload(gone, Digest.of(b"once"))
        with pytest.raises(UploadNotFound):
            store.append(gone, 0)
        with pytest.raises(UploadNotFound):
            store.read_upload(gone)
    assert [u.key for u in store.uploads()] == []


def test_a_commit_replaces_the_bytes_stored_under_the_digest(store: BlobStore) -> None:
    """How whole bytes repair a corrupt blob: the caller verified them; the store swaps them in."""
    digest = put(store, b"good bytes")
    rot(store, digest, b"bad bytes!")
    key = upload(store, b"good bytes")
    assert store.commit_upload(key, digest).size == 10
    with store.open(digest) as f:
        assert f.read() == b"good bytes"


def test_uploads_resume_from_the_recorded_offset_across_writers_and_restarts(make_store: Factory) -> None:
    store = make_store()
    key = upload(store, b"first half, ")
    other = make_store()  # a new process, another server: the same bytes
    assert read_upload(other, key) == b"first half, "
    writer = other.append(key, 12)
    assert writer.size == 12
    writer.write(b"second half")
    writer.close()
    info = other.commit_upload(key, Digest.of(b"first half, second half"))
    assert info.size == 23
    with other.open(info.digest) as f:
        assert f.read() == b"first half, second half"


def test_bytes_past_the_recorded_offset_are_dropped_and_fewer_are_unknown(store: BlobStore) -> None:
    """A writer that died after writing and before its caller recorded the bytes left them past the
    offset: the next append starts where the record says."""
    key = upload(store, b"recorded, then lost")
    writer = store.append(key, 9)
    writer.write(b" and more")
    writer.close()
    assert read_upload(store, key) == b"recorded, and more"
    with pytest.raises(UploadNotFound):
        store.append(key, 100)


def test_a_large_upload_resumes_on_another_server_from_an_offset_inside_what_it_holds(make_store: Factory) -> None:
    """12 MiB written, 7 MiB recorded (the writer died before its caller recorded the rest): another
    server drops what is past 7 MiB, even inside a part already stored whole, and goes on."""
    data = bytes(range(256)) * 4096 * 20  # 20 MiB
    key = upload(make_store(), data[: 12 * 1024 * 1024])
    other = make_store()
    writer = other.append(key, 7 * 1024 * 1024)
    assert writer.size == 7 * 1024 * 1024
    writer.write(data[7 * 1024 * 1024 :])
    writer.close()
    assert read_upload(make_store(), key) == data
    info = make_store().commit_upload(key, Digest.of(data))
    assert info.size == len(data)
    with other.open(info.digest, offset=len(data) - 10) as f:
        assert f.read() == data[-10:]
    assert [u.key for u in other.uploads()] == []


def test_one_writer_per_upload_at_a_time(make_store: Factory) -> None:
    store = make_store()
    key = store.create_upload()
    writer = store.append(key, 0)
    with pytest.raises(ConcurrentUpdate):
        store.append(key, 0)
    with pytest.raises(ConcurrentUpdate):
        make_store().append(key, 0)  # another process
    writer.close()
    store.append(key, 0).close()


def test_abort_discards_and_says_how_many_bytes_it_freed(store: BlobStore) -> None:
    key = upload(store, b"12345")
    assert store.abort_upload(key) == 5
    assert store.abort_upload(key) == 0
    assert store.abort_upload("not a key") == 0
    with pytest.raises(UploadNotFound):
        store.append(key, 0)
    assert list(store.uploads()) == [] and list(store.digests()) == []


def test_every_upload_held_is_listed_with_when_it_started(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    a, b = upload(store, b"aaa"), store.create_upload()
    listed = {u.key: u.started_at for u in store.uploads()}
    assert set(listed) == {a, b}
    assert all(before <= at <= datetime.now(UTC) + timedelta(seconds=5) for at in listed.values())


def test_large_blob_in_many_chunks(store: BlobStore) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB
    key = store.create_upload()
    writer = store.append(key, 0)
    for _ in range(8):
        writer.write(chunk)
    writer.close()
    writer = store.append(key, 8 * len(chunk))  # resumed mid-way, as a chunked upload does
    for _ in range(8):
        writer.write(chunk)
    writer.close()
    assert store.commit_upload(key, Digest.of(chunk * 16)).size == 16 * len(chunk)


def test_concurrent_uploads_of_the_same_content_all_succeed(store: BlobStore) -> None:
    data = b"raced" * 10000
    errors: list[BaseException] = []

    def one() -> None:
        try:
            put(store, data)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(store.digests()) == [Digest.of(data)]
    with store.open(Digest.of(data)) as f:
        assert f.read() == data


# -- what only the filesystem store has -------------------------------------------------------


def test_filesystem_layout_is_sharded_by_digest(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    digest = put(store, b"where am I")
    assert (tmp_path / "blobs" / "sha256" / digest.hex[:2] / digest.hex).read_bytes() == b"where am I"
    assert store.path(digest) == tmp_path / "blobs" / "sha256" / digest.hex[:2] / digest.hex


def test_upload_folders_a_crash_left_are_listed_and_removals_it_cut_short_finished(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    (tmp_path / "uploads" / ("a" * 32)).mkdir()  # the process died between mkdir and its data file
    (tmp_path / "uploads" / f".{'c' * 32}.aborted-1234").mkdir()  # an abort the crash cut short
    (tmp_path / "uploads" / f".{'d' * 32}.expired-1234").mkdir()  # the same, by an older version
    assert [u.key for u in store.uploads()] == ["a" * 32]
    assert store.abort_upload("a" * 32) == 0
    assert list((tmp_path / "uploads").iterdir()) == []


# -- what only the S3 store has ----------------------------------------------------------------


def test_an_s3_upload_continues_on_a_server_configured_with_another_part_size(
    s3_place: tuple[SeaweedServer, str],
) -> None:
    """The part size an upload began with travels in its tail: a server set to another goes on
    with the upload's own, and the blob is assembled from parts of one size."""
    server, prefix = s3_place
    data = bytes(range(256)) * 4096 * 14  # 14 MiB
    first = s3_store(server, prefix, part_size=5 * 1024 * 1024)
    key = upload(first, data[: 6 * 1024 * 1024])  # one 5 MiB part, then 1 MiB of tail
    second = s3_store(server, prefix, part_size=8 * 1024 * 1024)
    writer = second.append(key, 6 * 1024 * 1024)
    writer.write(data[6 * 1024 * 1024 :])
    writer.close()
    parts = sorted(
        (item["Key"].rsplit("/", 1)[1], item["Size"])
        for item in server.client().list_objects_v2(Bucket=server.bucket_name, Prefix=f"{prefix}/uploads/{key}/")["Contents"]
    )
    assert parts == [("part-00001", 5 * 1024 * 1024), ("part-00002", 5 * 1024 * 1024), ("tail", 4 * 1024 * 1024)]
    assert second.commit_upload(key, Digest.of(data)).size == len(data)
    with first.open(Digest.of(data)) as f:
        assert f.read() == data
