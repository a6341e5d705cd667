"""Blobs in a folder: ``blobs/<alg>/<2 hex>/<hex>``, uploads in ``uploads/<id>/``.

A blob appears under its digest only through ``commit``: the upload's bytes are hashed as they
arrive, compared with the expected digest, flushed to disk and then renamed into place, which is
atomic on POSIX filesystems. A reader can never see a partial or unverified blob.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from hoist.domain.digests import Digest, Hasher, new_hasher
from hoist.domain.errors import BlobCorrupt, BlobNotFound, ConcurrentUpdate, DigestMismatch, UploadNotFound
from hoist.domain.ports import BlobInfo, UploadState
from hoist.storage.reading import checked

_UPLOAD_ID = re.compile(r"[a-f0-9]{32}")
_EXPIRING = re.compile(r"\.[a-f0-9]{32}\.expired-[a-f0-9]+")
_READ_SIZE = 1024 * 1024
_PARALLEL_HASH = 256 * 1024
_HASHING = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hoist-hash")


class FilesystemBlobStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self._blobs = root / "blobs"
        self._uploads = root / "uploads"
        self._fsync = fsync
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._uploads.mkdir(parents=True, exist_ok=True)
        # Hash state of uploads this process wrote last, keyed by id and validated by size, so that a
        # chunked upload is hashed once instead of re-read on every chunk. Only a cache: another worker
        # process that appended to the upload changes its size, and the upload is then re-hashed.
        self._hash_cache: dict[str, tuple[int, Hasher]] = {}
        self._cache_lock = threading.Lock()

    def _blob_path(self, digest: Digest) -> Path:
        return self._blobs / digest.algorithm / digest.hex[:2] / digest.hex

    def _corrupt(self, digest: Digest) -> Path:
        return self.root / "corrupt" / digest.algorithm / digest.hex

    def _check(self, digest: Digest) -> None:
        # a marked blob whose file is gone is missing, not corrupt: the callers then say so
        if self._corrupt(digest).exists() and self._blob_path(digest).exists():
            raise BlobCorrupt.of(digest)

    def mark_corrupt(self, digest: Digest) -> None:
        marker = self._corrupt(digest)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()

    def quarantine(self, digest: Digest) -> bool:
        aside = self.root / "quarantine" / f"{digest.algorithm}-{digest.hex}-{uuid.uuid4().hex[:8]}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self._blob_path(digest), aside)
        except FileNotFoundError:
            return False
        self._corrupt(digest).unlink(missing_ok=True)  # out of the store: a new upload may store it whole
        return True

    def stat(self, digest: Digest) -> BlobInfo:
        self._check(digest)
        try:
            st = self._blob_path(digest).stat()
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} is not stored", digest=str(digest)) from None
        return BlobInfo(digest, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        self._check(digest)
        try:
            f = self._blob_path(digest).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} is not stored", digest=str(digest)) from None
        if offset:
            f.seek(offset)
            return f
        return checked(f, digest, os.fstat(f.fileno()).st_size, self.mark_corrupt)

    def path(self, digest: Digest) -> Path | None:
        self._check(digest)
        p = self._blob_path(digest)
        return p if p.exists() else None

    def download_url(self, digest: Digest, *, expires_in: int) -> str | None:  # noqa: ARG002
        return None

    def writer(self, upload_id: str | None = None) -> FilesystemBlobWriter:
        if upload_id is None:
            upload_id = uuid.uuid4().hex
            (self._uploads / upload_id).mkdir()
            (self._uploads / upload_id / "started").write_text(datetime.now(UTC).isoformat())
            (self._uploads / upload_id / "data").touch()
        return FilesystemBlobWriter(self, self._upload_dir(upload_id), upload_id)

    def _upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id) or not (self._uploads / upload_id / "data").exists():
            raise UploadNotFound(f"upload {upload_id!r} is unknown or has ended", upload_id=upload_id)
        return self._uploads / upload_id

    def upload_state(self, upload_id: str) -> UploadState:
        directory = self._upload_dir(upload_id)
        try:
            st = (directory / "data").stat()
            started = datetime.fromisoformat((directory / "started").read_text())
        except (FileNotFoundError, ValueError):
            raise UploadNotFound(f"upload {upload_id!r} is unknown or has ended", upload_id=upload_id) from None
        return UploadState(upload_id, st.st_size, started, datetime.fromtimestamp(st.st_mtime, UTC))

    def uploads(self) -> Iterator[UploadState]:
        for entry in sorted(self._uploads.iterdir()):
            with contextlib.suppress(UploadNotFound):
                yield self.upload_state(entry.name)

    def expire_uploads(self, *, idle_since: datetime) -> list[UploadState]:
        expired = []
        for entry in sorted(self._uploads.iterdir()):
            if _EXPIRING.fullmatch(entry.name):  # out of reach already; a crash cut its deletion short
                shutil.rmtree(entry, ignore_errors=True)
            elif _UPLOAD_ID.fullmatch(entry.name) and (state := self._expire(entry, idle_since)) is not None:
                expired.append(state)
        return expired

    def _expire(self, directory: Path, idle_since: datetime) -> UploadState | None:
        upload_id = directory.name
        # A look without the lock first: probing the lock of an upload in use would make its writer's
        # next request fail (one writer at a time). Half made by a crash, or ended meanwhile: see below.
        with contextlib.suppress(FileNotFoundError):
            if datetime.fromtimestamp((directory / "data").stat().st_mtime, UTC) >= idle_since:
                return None
        try:
            lock = os.open(directory / "data", os.O_RDONLY)
        except FileNotFoundError:
            lock = None  # half made by a crash: only its folder's age tells
        try:
            if lock is not None:
                try:  # the writer's lock: an upload being written now is not idle, however old
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return None
            try:
                state = self._idle_state(directory, lock)
            except FileNotFoundError:  # committed or cancelled meanwhile
                return None
            if state.updated_at >= idle_since:
                return None
            # Out of reach while still locked: a writer that opens it from now on finds it unknown.
            doomed = self._uploads / f".{upload_id}.expired-{uuid.uuid4().hex}"
            try:
                os.rename(directory, doomed)
            except FileNotFoundError:  # ended meanwhile
                return None
        finally:
            if lock is not None:
                os.close(lock)
        shutil.rmtree(doomed, ignore_errors=True)
        self._remember_hasher(upload_id, 0, None)
        return state

    def _idle_state(self, directory: Path, data: int | None) -> UploadState:
        """An upload's state, even half made: the folder's time stands in for what is missing."""
        made = directory.stat()
        st = os.fstat(data) if data is not None else made
        try:
            started = datetime.fromisoformat((directory / "started").read_text())
        except (FileNotFoundError, ValueError):
            started = datetime.fromtimestamp(made.st_mtime, UTC)
        return UploadState(
            directory.name, st.st_size if data is not None else 0, started, datetime.fromtimestamp(st.st_mtime, UTC)
        )

    def delete(self, digest: Digest) -> None:
        self._blob_path(digest).unlink(missing_ok=True)

    def touch(self, digest: Digest) -> bool:
        try:
            os.utime(self._blob_path(digest))
        except FileNotFoundError:
            return False
        return True

    def collect(self, digest: Digest, *, older_than: datetime) -> int | None:
        # Renamed out of reach first: a touch from now on fails (its writer then reports the blob
        # missing, or stores it again), and one that came before shows in the mtime checked after.
        path = self._blob_path(digest)
        doomed = path.with_name(f".{digest.hex}.collecting-{uuid.uuid4().hex}")
        try:
            os.rename(path, doomed)
        except FileNotFoundError:
            return None
        st = doomed.stat()
        if datetime.fromtimestamp(st.st_mtime, UTC) >= older_than:
            with contextlib.suppress(FileExistsError):  # stored again meanwhile: that copy is as good
                os.link(doomed, path)
            doomed.unlink()
            return None
        doomed.unlink()
        return st.st_size

    def digests(self) -> Iterator[Digest]:
        for alg_dir in sorted(self._blobs.iterdir()):
            for shard in sorted(alg_dir.iterdir()):
                for blob in sorted(shard.iterdir()):
                    if not blob.name.startswith("."):  # a blob being collected
                        yield Digest(alg_dir.name, blob.name)

    # -- used by the writer ---------------------------------------------------------------------

    def _cached_hasher(self, upload_id: str, size: int) -> Hasher | None:
        with self._cache_lock:
            entry = self._hash_cache.get(upload_id)
        return entry[1].copy() if entry and entry[0] == size else None

    def _remember_hasher(self, upload_id: str, size: int, hasher: Hasher | None) -> None:
        with self._cache_lock:
            if hasher is None:
                self._hash_cache.pop(upload_id, None)
            else:
                self._hash_cache[upload_id] = (size, hasher.copy())

    def _publish(self, source: Path, digest: Digest) -> None:
        target = self._blob_path(digest)
        marker = self._corrupt(digest)
        if marker.exists():  # the stored copy is corrupt: these verified bytes replace it
            os.replace(source, target)
            marker.unlink(missing_ok=True)
            return
        if self.touch(digest):  # content-addressed: the same bytes are already there (and now fresh)
            source.unlink()
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        if self._fsync:
            _fsync_dir(target.parent)


class FilesystemBlobWriter:
    def __init__(self, store: FilesystemBlobStore, directory: Path, upload_id: str) -> None:
        self.upload_id = upload_id
        self._store = store
        self._dir = directory
        self._data = directory / "data"
        self._file: BinaryIO | None = self._data.open("ab", buffering=0)
        try:
            # One writer per upload at a time, across threads and processes.
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise ConcurrentUpdate(f"upload {upload_id} is being written by another request") from None
        if not self._data.exists():  # expired between our open and our lock
            self._file.close()
            raise UploadNotFound(f"upload {upload_id!r} is unknown or has ended", upload_id=upload_id)
        self.size = os.fstat(self._file.fileno()).st_size
        self._hasher: Hasher | None = store._cached_hasher(upload_id, self.size)

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            raise UploadNotFound(f"upload {self.upload_id} is closed", upload_id=self.upload_id)
        if self._hasher is None:
            self._hasher = self._rehash()
        if len(chunk) >= _PARALLEL_HASH:
            # Hashing and writing both release the GIL: do them at the same time on two cores.
            hashed = _HASHING.submit(self._hasher.update, chunk)
            self._file.write(chunk)
            hashed.result()
        else:
            self._file.write(chunk)
            self._hasher.update(chunk)
        self.size += len(chunk)

    def _rehash(self, algorithm: str = "sha256") -> Hasher:
        h = new_hasher(algorithm)
        with self._data.open("rb") as f:
            while block := f.read(_READ_SIZE):
                h.update(block)
        return h

    def commit(self, expected: Digest) -> BlobInfo:
        if self._file is None:
            raise UploadNotFound(f"upload {self.upload_id} is closed", upload_id=self.upload_id)
        if self._store._fsync:
            os.fsync(self._file.fileno())
        if expected.algorithm == "sha256" and self._hasher is not None:
            actual = Digest("sha256", self._hasher.hexdigest())
        elif expected.algorithm == "sha256" and (recorded := self._recorded_sha256()) is not None:
            actual = Digest("sha256", recorded)
        else:
            actual = Digest(expected.algorithm, self._rehash(expected.algorithm).hexdigest())
        if actual != expected:
            self.cancel()
            raise DigestMismatch(
                f"the uploaded bytes hash to {actual}, not {expected}: the upload was discarded",
                expected=str(expected),
                actual=str(actual),
            )
        size = self.size
        self._store._publish(self._data, expected)
        self._end()
        return BlobInfo(expected, size)

    def close(self) -> None:
        if self._file is not None:
            self._store._remember_hasher(self.upload_id, self.size, self._hasher)
            if self._hasher is not None:  # always sha256: what write() hashes with
                self._record_sha256(self._hasher.hexdigest())
            self._file.close()
            self._file = None

    # A client's next request may reach another worker process, whose hash cache is empty: the
    # digest of what this one hashed, kept beside the data, spares that worker re-reading the whole
    # upload to finish it (skopeo and docker PATCH every byte, then PUT an empty body). It is written
    # under the writer's lock and names the size it covers: appended bytes make it stale, not wrong.
    def _record_sha256(self, hexdigest: str) -> None:
        partial = self._dir / "sha256.partial"
        partial.write_text(f"{self.size} {hexdigest}")
        os.replace(partial, self._dir / "sha256")

    def _recorded_sha256(self) -> str | None:
        try:
            size, hexdigest = (self._dir / "sha256").read_text().split()
        except (FileNotFoundError, ValueError):
            return None
        return hexdigest if size == str(self.size) else None

    def cancel(self) -> None:
        self._end()

    def _end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._store._remember_hasher(self.upload_id, 0, None)
        shutil.rmtree(self._dir, ignore_errors=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
