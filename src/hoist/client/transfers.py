"""Streaming transfers: files go up in one pass, hashed while they are sent; blobs come down into a
temporary file, hashed while they arrive, and are renamed into place only once verified."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from hoist.client.errors import raise_for_error
from hoist.domain.digests import Digest, Hasher, new_hasher
from hoist.domain.errors import IntegrityFailure, UploadTruncated

if TYPE_CHECKING:
    from hoist.client import HoistClient

CHUNK = 1024 * 1024
SMALL = 8 * 1024 * 1024  # at most this size, a file goes up in one request
RESUME_ATTEMPTS = 3
Progress = Callable[[int], None]


def upload_file(client: HoistClient, path: Path, progress: Progress | None = None) -> dict[str, Any]:
    size = path.stat().st_size
    if size <= SMALL:
        data = path.read_bytes()
        digest = Digest.of(data)
        result: dict[str, Any] = client.request(
            "POST",
            "/uploads",
            params={"digest": str(digest)},
            content=data,
        ).json()
        if progress:
            progress(size)
        return result
    upload_id = client.request("POST", "/uploads", content=b"").json()["upload_id"]
    hasher = new_hasher()
    offset = 0
    for attempt in range(1, RESUME_ATTEMPTS + 1):
        try:
            _send(client, path, upload_id, offset, size, hasher, progress)
            break
        except (httpx.TransportError, UploadTruncated, _Interrupted) as exc:
            if attempt == RESUME_ATTEMPTS:
                raise UploadTruncated(f"upload of {path} failed {attempt} times: {exc}") from exc
            # Resume from what the server holds, re-hashing the part it already has.
            offset = client.request("GET", f"/uploads/{upload_id}").json()["offset"]
            hasher = _hash_prefix(path, offset)
            if progress:
                progress(-1)  # a reset: the caller re-counts from the offset
                progress(offset)
    digest = Digest("sha256", hasher.hexdigest())
    out: dict[str, Any] = client.request("PUT", f"/uploads/{upload_id}", params={"digest": str(digest)}, content=b"").json()
    return out


class _Interrupted(Exception):
    pass


def _send(
    client: HoistClient,
    path: Path,
    upload_id: str,
    offset: int,
    size: int,
    hasher: Hasher,
    progress: Progress | None,
) -> None:
    def body() -> Iterator[bytes]:
        with path.open("rb") as f:
            f.seek(offset)
            while chunk := f.read(CHUNK):
                hasher.update(chunk)
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


def _hash_prefix(path: Path, length: int) -> Hasher:
    hasher = new_hasher()
    with path.open("rb") as f:
        remaining = length
        while remaining and (chunk := f.read(min(CHUNK, remaining))):
            hasher.update(chunk)
            remaining -= len(chunk)
    return hasher


def download_blob(client: HoistClient, digest: str, size: int, dest: Path, progress: Progress | None = None) -> None:
    expected = Digest.parse(digest)
    partial = dest.with_name(f".{dest.name}.partial")
    hasher, received = expected.hasher(), 0
    try:
        with client.http.stream(
            "GET",
            f"/api/v1/blobs/{expected}",
            follow_redirects=True,
            timeout=httpx.Timeout(60.0, connect=10.0),
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise_for_error(response)
            with partial.open("wb") as out:
                for chunk in response.iter_raw(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
                    if progress:
                        progress(len(chunk))
        actual = Digest(expected.algorithm, hasher.hexdigest())
        if actual != expected or received != size:
            raise IntegrityFailure(
                f"{dest.name}: received {received} bytes hashing to {actual}; expected {size} bytes, {expected}",
                expected=str(expected),
                actual=str(actual),
            )
        os.replace(partial, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
