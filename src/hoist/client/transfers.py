"""Streaming transfers: files go up in one pass, hashed while they are sent; blobs come down into a
temporary file, hashed while they arrive, and are renamed into place only once verified."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from hoist.client.errors import ServerUnreachable, raise_for_error
from hoist.domain.digests import Digest, Hasher, new_hasher
from hoist.domain.errors import IntegrityFailure, UploadTruncated

if TYPE_CHECKING:
    from hoist.client import HoistClient

CHUNK = 1024 * 1024
BATCH = 4 * 1024 * 1024
SMALL = 8 * 1024 * 1024  # at most this size, a file goes up in one request
RESUME_ATTEMPTS = 3
Progress = Callable[[int], None]
_BACKGROUND = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hoist-hash")


def upload_file(client: HoistClient, path: Path, progress: Progress | None = None) -> dict[str, Any]:
    size = path.stat().st_size
    if size <= SMALL:
        data = path.read_bytes()
        result: dict[str, Any] = client.request(
            "POST", "/uploads", params={"digest": str(Digest.of(data))}, content=data
        ).json()
        if progress:
            progress(size)
        return result
    # The digest is computed by a second reader on another core while the bytes stream out; if the
    # file changes meanwhile, the server's digest of what it received will not match and the
    # upload is refused rather than stored under the wrong name.
    digest = _BACKGROUND.submit(_hash_file, path)
    upload_id = client.request("POST", "/uploads", content=b"").json()["upload_id"]
    offset = 0
    for attempt in range(1, RESUME_ATTEMPTS + 1):
        try:
            _send(client, path, upload_id, offset, size, progress)
            break
        except (ServerUnreachable, UploadTruncated, _Interrupted) as exc:
            if attempt == RESUME_ATTEMPTS:
                raise UploadTruncated(f"upload of {path} failed {attempt} times: {exc}") from exc
            offset = client.request("GET", f"/uploads/{upload_id}").json()["offset"]  # resume from there
            if progress:
                progress(-1)  # a reset: the caller re-counts from the offset
                progress(offset)
    out: dict[str, Any] = client.request(
        "PUT", f"/uploads/{upload_id}", params={"digest": str(digest.result())}, content=b""
    ).json()
    return out


class _Interrupted(Exception):
    """The connection broke mid-upload: resume from the offset the server has."""


def _send(client: HoistClient, path: Path, upload_id: str, offset: int, size: int, progress: Progress | None) -> None:
    def body() -> Iterator[bytes]:
        with path.open("rb") as f:
            f.seek(offset)
            while chunk := f.read(CHUNK):
                if progress:
                    progress(len(chunk))
                yield chunk

    result = client.request(
        "PATCH",
        f"/uploads/{upload_id}",
        content=body(),
        headers={"Upload-Offset": str(offset), "Content-Length": str(size - offset)},
        timeout=httpx.Timeout(None, connect=10.0),
    ).json()
    if result["offset"] != size:
        raise _Interrupted(f"server holds {result['offset']} of {size} bytes")


def _hash_file(path: Path) -> Digest:
    hasher = new_hasher()
    with path.open("rb") as f:
        while chunk := f.read(BATCH):
            hasher.update(chunk)
    return Digest("sha256", hasher.hexdigest())


def download_blob(client: HoistClient, digest: str, size: int, dest: Path, progress: Progress | None = None) -> None:
    expected = Digest.parse(digest)
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        with client.http.stream(
            "GET", f"/api/v1/blobs/{expected}", follow_redirects=True, timeout=httpx.Timeout(60.0, connect=10.0)
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise_for_error(response)
            with _VerifyingFile(partial, expected.hasher()) as sink:
                for chunk in response.iter_raw():
                    sink.put(chunk)
                    if progress:
                        progress(len(chunk))
        actual = Digest(expected.algorithm, sink.hexdigest)
        if actual != expected or sink.size != size:
            raise IntegrityFailure(
                _mismatch(dest.name, sink.size, actual, size, expected),
                expected=str(expected),
                actual=str(actual),
                expected_size=size,
                actual_size=sink.size,
            )
        os.replace(partial, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _mismatch(name: str, got: int, actual: Digest, size: int, expected: Digest) -> str:
    """Says which of the size or the digest is wrong: a wrong recorded size with the right bytes
    is a metadata problem, bytes hashing to something else are corrupt or tampered."""
    if actual == expected:
        return f"{name}: received {got} bytes, but {size} bytes were recorded; their digest {actual} is the one recorded"
    if got == size:
        return f"{name}: received {got} bytes, as recorded, but they hash to {actual}, not {expected}"
    return (
        f"{name}: both size and digest are wrong: received {got} bytes hashing to {actual}; "
        f"recorded {size} bytes, {expected}"
    )


class _VerifyingFile:
    """Writes and hashes what arrives on a thread of its own, so that receiving, hashing and writing
    overlap (each releases the GIL); at most a few batches wait in between."""

    def __init__(self, path: Path, hasher: Hasher) -> None:
        self._path = path
        self._hasher = hasher
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._batch: list[bytes] = []
        self._batch_size = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="hoist-download", daemon=True)
        self.size = 0
        self.hexdigest = ""

    def __enter__(self) -> _VerifyingFile:
        self._thread.start()
        return self

    def put(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batch_size += len(chunk)
        self.size += len(chunk)
        if self._batch_size >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._error is not None:
            raise self._error
        if self._batch:
            self._queue.put(b"".join(self._batch))
            self._batch, self._batch_size = [], 0

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._flush()
        finally:
            self._queue.put(None)
            self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error
        self.hexdigest = self._hasher.hexdigest()

    def _drain(self) -> None:
        with ThreadPoolExecutor(max_workers=1) as pool, self._path.open("wb") as out:
            while (batch := self._queue.get()) is not None:
                if self._error is not None:
                    continue
                try:
                    hashed = pool.submit(self._hasher.update, batch)
                    out.write(batch)
                    hashed.result()
                except BaseException as exc:
                    self._error = exc
