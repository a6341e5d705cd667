"""A twine upload taken into a real blob store: what is stored, and what is refused before it is."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hoist.domain.digests import Digest
from hoist.domain.errors import HoistError
from hoist.formats.pypi import intake
from hoist.formats.pypi.seekable import SeekableBlob
from hoist.http.errors import status_of
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.blobs import Blobs
from hoist.services.uploads import UploadService
from hoist.storage.filesystem import FilesystemBlobStore
from tests import pypi_files
from tests.asgi import SyncASGITransport
from tests.conftest import put_bytes


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "store", fsync=False)


@pytest.fixture
def http(store: FilesystemBlobStore, sqlite_metadata: SqlMetadataStore) -> Iterator[httpx.Client]:
    uploads = UploadService(Blobs(store, sqlite_metadata), sqlite_metadata, max_upload_bytes=64 * 1024)

    async def take(request: Request) -> Response:
        try:
            got = await intake.receive(request, uploads)
        except HoistError as exc:
            return PlainTextResponse(exc.message, status_of(exc))
        files = [got.file, got.metadata_file]
        return JSONResponse({"files": [[f.name, str(f.digest), f.size, f.media_type] for f in files]})

    transport = SyncASGITransport(Starlette(routes=[Route("/", take, methods=["POST"])]))
    with httpx.Client(transport=transport, base_url="http://hoist.test") as client:
        yield client
    transport.close()


def stored(store: FilesystemBlobStore, digest: str) -> bytes:
    with store.open(Digest.parse(digest)) as f:
        return f.read()


@pytest.mark.parametrize(
    ("filename", "content", "media_type"),
    [
        ("shop_utils-1.4.0-py3-none-any.whl", pypi_files.wheel("shop-utils", "1.4.0"), "application/zip"),
        ("shop_utils-1.4.0.tar.gz", pypi_files.sdist("shop-utils", "1.4.0"), "application/gzip"),
    ],
)
def test_a_distribution_and_its_core_metadata_are_stored(
    http: httpx.Client, store: FilesystemBlobStore, filename: str, content: bytes, media_type: str
) -> None:
    data, files = pypi_files.twine_form(content, filename, "Shop.Utils", "1.4.0")
    r = http.post("/", data=data, files=files)
    assert r.status_code == 200, r.text
    (name, digest, size, media), (meta_name, meta_digest, meta_size, _) = r.json()["files"]
    sha256 = f"sha256:{hashlib.sha256(content).hexdigest()}"
    assert (name, digest, size, media) == (filename, sha256, len(content), media_type)
    assert stored(store, digest) == content
    assert meta_name == filename + ".metadata"
    assert stored(store, meta_digest) == pypi_files.metadata("shop-utils", "1.4.0") and meta_size > 0


def test_refused_uploads_say_why(http: httpx.Client, store: FilesystemBlobStore) -> None:
    wheel = pypi_files.wheel("shop", "1.0")
    big = wheel + os.urandom(70_000)
    name = "shop-1.0-py3-none-any.whl"
    cases = [
        (pypi_files.twine_form(wheel, name, "shop", "1.0", sha256_digest="0" * 64), 400, "sha256"),
        (pypi_files.twine_form(wheel, name, "shop", "1.0", **{":action": "remove_pkg"}), 400, "file_upload"),
        (pypi_files.twine_form(wheel, "shop-1.0.zip", "shop", "1.0"), 400, "neither a wheel"),
        (pypi_files.twine_form(big, name, "shop", "1.0"), 413, "limit"),
    ]
    for (data, files), status, message in cases:
        r = http.post("/", data=data, files=files)
        assert (r.status_code, message in r.text) == (status, True), r.text
    assert store.path(Digest.of(big)) is None  # over the limit: the upload was discarded as it arrived


@pytest.mark.parametrize(
    ("content", "name", "version", "message"),
    [
        (pypi_files.wheel("shop", "1.0", inside=pypi_files.metadata("other", "1.0")), "shop", "1.0", "Name 'other'"),
        (pypi_files.wheel("shop", "1.0", inside=pypi_files.metadata("shop", "2.0")), "shop", "1.0", "Version 2.0"),
        (pypi_files.wheel("shop", "1.0"), "other", "1.0", "the form's name 'other'"),
        (pypi_files.wheel("shop", "1.0"), "shop", "1.1", "the form's version '1.1'"),
        (b"PK\x05\x06" + b"\0" * 18, "shop", "1.0", "exactly one"),  # an empty zip
        (os.urandom(300), "shop", "1.0", "not a readable wheel"),
    ],
)
def test_a_file_that_disagrees_with_its_name_or_form_is_refused(
    http: httpx.Client, content: bytes, name: str, version: str, message: str
) -> None:
    data, files = pypi_files.twine_form(content, "shop-1.0-py3-none-any.whl", name, version)
    r = http.post("/", data=data, files=files)
    assert r.status_code == 400 and message in r.text, r.text


def test_a_seekable_blob_reads_a_zip_from_any_offset(store: FilesystemBlobStore) -> None:
    wheel = pypi_files.wheel("shop", "1.0")
    digest = put_bytes(store, wheel).digest
    opened: list[int] = []

    def open_at(offset: int) -> io.BufferedIOBase:
        opened.append(offset)
        return store.open(digest, offset)  # type: ignore[return-value]

    with SeekableBlob(open_at, len(wheel)) as blob, zipfile.ZipFile(blob) as z:  # type: ignore[arg-type]
        assert z.read("shop-1.0.dist-info/METADATA") == pypi_files.metadata("shop", "1.0")
    assert opened[0] > 0  # the directory at the end was read first: no whole read from the start
