"""The shared body ingest of the format rooms (``formats/common/ingest``): one pass stores the file
and computes its four checksums; a checksum the client declared that the bytes lack, a truncated
body and one over the cap are refused and leave nothing behind. Driven through a one-route Starlette app over the
real filesystem blob store, as raw ASGI where the body must misbehave."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hoist.domain.digests import Digest
from hoist.domain.errors import HoistError
from hoist.formats.common.checksum_headers import declared_checksums
from hoist.formats.common.ingest import BATCH, receive_body, receive_stream
from hoist.http.errors import handle_hoist_error
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.blobs import Blobs
from hoist.services.uploads import UploadService
from hoist.storage.filesystem import FilesystemBlobStore
from tests.asgi import SyncASGITransport
from tests.functional.test_request_bodies import play

LIMIT = 1024 * 1024


@pytest.fixture
def app(blobs: FilesystemBlobStore, sqlite_metadata: SqlMetadataStore) -> Starlette:
    uploads = UploadService(Blobs(blobs, sqlite_metadata), sqlite_metadata, max_upload_bytes=LIMIT)

    async def put(request: Request) -> JSONResponse:
        stored = await receive_body(request, uploads, checksums=declared_checksums(request.headers))
        entry = stored.entry(request.path_params["name"])
        return JSONResponse({"digest": str(entry.digest), "size": entry.size, **stored.checksums})

    async def put_parts(request: Request) -> JSONResponse:
        async def parts() -> AsyncIterator[bytes]:
            async for chunk in request.stream():
                yield chunk[: len(chunk) // 2]  # stands in for a decoder: the file is not the body
                yield chunk[len(chunk) // 2 :]

        stored = await receive_stream(parts(), uploads, checksums=declared_checksums(request.headers))
        return JSONResponse({"digest": str(stored.digest), "size": stored.size})

    routes = [Route("/files/{name}", put, methods=["PUT"]), Route("/parts", put_parts, methods=["PUT"])]
    return Starlette(routes=routes, exception_handlers={HoistError: handle_hoist_error})


@pytest.fixture
def http(app: Starlette) -> Iterator[httpx.Client]:
    transport = SyncASGITransport(app)
    with httpx.Client(transport=transport, base_url="http://hoist.test") as client:
        yield client
    transport.close()


def nothing_left(blobs: FilesystemBlobStore) -> bool:
    return list(blobs.digests()) == [] and list(blobs.uploads()) == []


def test_one_pass_stores_the_file_and_gives_its_four_checksums(http: httpx.Client, blobs: FilesystemBlobStore) -> None:
    data = bytes(range(256)) * 2048  # 512 KiB
    r = http.put("/files/app.tgz", content=data, headers={"X-Checksum-Sha1": hashlib.sha1(data).hexdigest()})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "digest": str(Digest.of(data)),
        "size": len(data),
        **{a: hashlib.new(a, data).hexdigest() for a in ("sha256", "sha1", "md5", "sha512")},
    }
    with blobs.open(Digest.of(data)) as f:
        assert f.read() == data
    assert list(blobs.uploads()) == []


def test_a_streamed_body_without_length_is_stored_whole(http: httpx.Client, blobs: FilesystemBlobStore) -> None:
    r = http.put("/files/x", content=iter([b"a" * 1000, b"b" * 1000]))
    assert r.status_code == 200 and r.json()["size"] == 2000
    assert blobs.stat(Digest.of(b"a" * 1000 + b"b" * 1000)).size == 2000


def test_bytes_that_are_not_a_whole_body_are_stored_the_same_way(http: httpx.Client, blobs: FilesystemBlobStore) -> None:
    data = b"from a multipart form" * 100
    r = http.put("/parts", content=data, headers={"X-Checksum-Md5": hashlib.md5(data).hexdigest()})
    assert r.status_code == 200 and r.json() == {"digest": str(Digest.of(data)), "size": len(data)}
    assert http.put("/parts", content=data, headers={"X-Checksum-Md5": "0" * 32}).status_code == 400
    assert list(blobs.digests()) == [Digest.of(data)] and list(blobs.uploads()) == []


def test_a_declared_checksum_the_bytes_lack_stores_nothing(http: httpx.Client, blobs: FilesystemBlobStore) -> None:
    r = http.put("/files/x", content=b"real bytes", headers={"X-Checksum-Sha256": hashlib.sha256(b"other").hexdigest()})
    assert r.status_code == 400 and r.json()["error"]["code"] == "DIGEST_MISMATCH"
    assert r.json()["error"]["message"].endswith("nothing was stored")
    assert nothing_left(blobs)


def test_a_body_shorter_than_its_length_stores_nothing(app: Any, blobs: FilesystemBlobStore) -> None:
    seen = play(app, "PUT", "/files/x", 3, b"z" * 1000, {"content-length": "5000"})
    assert seen.status == 400, seen.body
    assert b"UPLOAD_TRUNCATED" in seen.body and b"declared 5000 bytes but carried 3000; nothing was stored" in seen.body
    assert nothing_left(blobs)


def test_a_body_over_the_cap_is_refused_declared_or_streamed(app: Any, blobs: FilesystemBlobStore) -> None:
    declared = play(app, "PUT", "/files/x", 2, b"z" * LIMIT, {"content-length": str(2 * LIMIT)})
    assert declared.status == 413 and declared.pulled == 0  # refused before a byte is read
    streamed = play(app, "PUT", "/files/x", 400, b"z" * (64 * 1024), {})  # 25 MiB offered, no length
    assert streamed.status == 413 and streamed.pulled <= LIMIT + BATCH + 64 * 1024  # refused as the bytes arrive
    assert nothing_left(blobs)
