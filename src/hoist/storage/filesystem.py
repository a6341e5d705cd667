"""Blobs in a folder: ``blobs/<alg>/<2 hex>/<hex>``, uploads in ``uploads/<key>/data``, blobs set
aside in ``quarantine/``.

Bytes only: what they mean (how far an upload got, its running hash, when a blob was last needed,
whether it is corrupt) is the metadata store's. A blob appears under its digest only through
``commit_upload``: the upload's file is flushed to disk and renamed into place, which is atomic on
POSIX filesystems, so a reader never sees a part.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobNotFound, ConcurrentUpdate, UploadNotFound
from hoist.domain.ports import BlobInfo, StoredUpload

_KEY = re.compile(r"[a-f0-9]{32}")
_DOOMED = re.compile(r"\.[a-f0-9]{32}\.(expired|aborted)-[a-f0-9]+")  # an upload whose removal a crash cut short


class FilesystemBlobStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self._blobs = root / "blobs"
        self._uploads = root / "uploads"
        self._fsync = fsync
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._uploads.mkdir(parents=True, exist_ok=True)

    def _blob_path(self, digest: Digest) -> Path:
        return self._blobs / digest.algorithm / digest.hex[:2] / digest.hex

    def stat(self, digest: Digest) -> BlobInfo:
        try:
            st = self._blob_path(digest).stat()
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} is not stored", digest=str(digest)) from None
        return BlobInfo(digest, st.st_size)

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        try:
            f = self._blob_path(digest).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} is not stored", digest=str(digest)) from None
        if offset:
            f.seek(offset)
        return f

    def path(self, digest: Digest) -> Path | None:
        p = self._blob_path(digest)
        return p if p.exists() else None

    def download_url(self, digest: Digest, *, expires_in: int) -> str | None:  # noqa: ARG002
        return None

    def delete(self, digest: Digest) -> None:
        self._blob_path(digest).unlink(missing_ok=True)

    def set_aside(self, digest: Digest) -> str | None:
        aside = self.root / "quarantine" / f"{digest.algorithm}-{digest.hex}-{uuid.uuid4().hex[:8]}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self._blob_path(digest), aside)
        except FileNotFoundError:
            return None
        return str(aside.relative_to(self.root))

    def digests(self) -> Iterator[Digest]:
        for alg_dir in sorted(self._blobs.iterdir()):
            for shard in sorted(alg_dir.iterdir()):
                for blob in sorted(shard.iterdir()):
                    if not blob.name.startswith("."):
                        yield Digest(alg_dir.name, blob.name)

    # -- uploads --------------------------------------------------------------------------------

    def _data(self, key: str) -> Path:
        data = self._uploads / key / "data"
        if not _KEY.fullmatch(key) or not data.exists():
            raise UploadNotFound(f"upload {key!r} is unknown or has ended", upload_id=key)
        return data

    def create_upload(self) -> str:
        key = uuid.uuid4().hex
        (self._uploads / key).mkdir()
        (self._uploads / key / "data").touch()
        return key

    def append(self, key: str, offset: int) -> FilesystemUploadWriter:
        return FilesystemUploadWriter(self._data(key), key, offset)

    def read_upload(self, key: str) -> BinaryIO:
        try:
            return self._data(key).open("rb")
        except FileNotFoundError:
            raise UploadNotFound(f"upload {key!r} is unknown or has ended", upload_id=key) from None

    def commit_upload(self, key: str, digest: Digest) -> BlobInfo:
        data = self._data(key)
        target = self._blob_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self._fsync:
            with data.open("rb") as f:
                os.fsync(f.fileno())
        size = data.stat().st_size
        try:
            os.replace(data, target)
        except FileNotFoundError:
            raise UploadNotFound(f"upload {key!r} is unknown or has ended", upload_id=key) from None
        if self._fsync:
            _fsync_dir(target.parent)
        shutil.rmtree(self._uploads / key, ignore_errors=True)
        return BlobInfo(digest, size)

    def abort_upload(self, key: str) -> int:
        if not _KEY.fullmatch(key):
            return 0
        doomed = self._uploads / f".{key}.aborted-{uuid.uuid4().hex}"
        try:
            os.rename(self._uploads / key, doomed)  # out of reach at once: a writer opening it finds it unknown
        except FileNotFoundError:
            return 0
        try:
            size = (doomed / "data").stat().st_size
        except FileNotFoundError:  # half made by a crash
            size = 0
        shutil.rmtree(doomed, ignore_errors=True)
        return size

    def uploads(self) -> Iterator[StoredUpload]:
        for entry in sorted(self._uploads.iterdir()):
            if _DOOMED.fullmatch(entry.name):  # a removal a crash cut short: finished here
                shutil.rmtree(entry, ignore_errors=True)
            elif _KEY.fullmatch(entry.name):
                try:
                    made = entry.stat().st_mtime
                except FileNotFoundError:  # ended meanwhile
                    continue
                yield StoredUpload(entry.name, datetime.fromtimestamp(made, UTC))


def legacy_corrupt_marks(root: Path) -> list[tuple[Digest, Path]]:
    """The corrupt markers Hoist kept beside the blobs before the metadata store did
    (``corrupt/<alg>/<hex>``), with their files: to be recorded, then removed (``app.migrate``)."""
    folder = root / "corrupt"
    if not folder.is_dir():
        return []
    return [(Digest(alg.name, marker.name), marker) for alg in sorted(folder.iterdir()) for marker in sorted(alg.iterdir())]


class FilesystemUploadWriter:
    def __init__(self, data: Path, key: str, offset: int) -> None:
        self.key = key
        self._file: BinaryIO | None = data.open("ab", buffering=0)
        try:
            # One writer per upload at a time, across threads and processes.
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise ConcurrentUpdate(f"upload {key} is being written by another request") from None
        held = os.fstat(self._file.fileno()).st_size
        if held < offset or not data.exists():  # fewer bytes than recorded, or aborted meanwhile
            self._file.close()
            raise UploadNotFound(f"upload {key!r} is unknown or has ended", upload_id=key)
        if held > offset:  # written by a writer that died before its bytes were recorded
            self._file.truncate(offset)
        self.size = offset

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            raise UploadNotFound(f"upload {self.key} is closed", upload_id=self.key)
        self._file.write(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        # not fsynced: ``commit_upload`` does, and after a machine crash an upload holding fewer
        # bytes than recorded is unknown (the client starts again), never wrong
        if self._file is not None:
            self._file.close()
            self._file = None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
