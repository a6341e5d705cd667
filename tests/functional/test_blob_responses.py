"""``http.blobs.BlobResponses``, the one piece every protocol serves blob bytes with: the caller's
headers and media type on the answer (whole, ranged or HEAD), from the checked bytes for a small blob,
a 307 to the blob server for a GET of a larger one when the blob server runs, and the store's errors
left to the caller's own error shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobNotFound
from hoist.http.blobs import BlobResponses
from hoist.http.blobserver import BlobUrls
from hoist.services.serving import INLINE_UP_TO
from hoist.storage.filesystem import FilesystemBlobStore
from tests.asgi import SyncASGITransport
from tests.functional.test_blob_server import SECRET, stored

DATA = bytes(range(256)) * 64
LARGE = bytes(range(256)) * (INLINE_UP_TO // 256 + 1)  # past what is answered from memory
WHEEL = "application/zip"
EXTRA = {"Content-Disposition": 'attachment; filename="shop_utils-1.4.0-py3-none-any.whl"', "X-Checksum-Sha1": "abc"}


def _client(blobs: FilesystemBlobStore, urls: BlobUrls | None) -> httpx.Client:
    responses = BlobResponses(blobs, urls)

    def serve(request: Request) -> Response:
        return responses.respond(request, Digest.parse(request.path_params["digest"]), EXTRA, media_type=WHEEL)

    async def not_found(_request: Request, exc: Exception) -> Response:  # the caller's own shape
        return PlainTextResponse(f"not here: {exc}", 404)

    app = Starlette(
        routes=[Route("/files/{digest}", serve, methods=["GET", "HEAD"])], exception_handlers={BlobNotFound: not_found}
    )
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver")


@pytest.fixture
def blobs(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "store", fsync=False)


@pytest.fixture
def local(blobs: FilesystemBlobStore) -> Iterator[httpx.Client]:
    with _client(blobs, None) as client:
        yield client


@pytest.mark.parametrize("data", [DATA, LARGE], ids=["small-from-memory", "large-from-its-file"])
def test_the_callers_headers_and_media_type_go_on_whole_ranged_and_head_answers(
    blobs: FilesystemBlobStore, local: httpx.Client, data: bytes
) -> None:
    digest = stored(blobs, data)
    whole = local.get(f"/files/{digest}")
    ranged = local.get(f"/files/{digest}", headers={"Range": "bytes=10-19"})
    head = local.head(f"/files/{digest}")
    assert (whole.status_code, whole.content, whole.headers["content-length"]) == (200, data, str(len(data)))
    assert (ranged.status_code, ranged.content, ranged.headers["content-range"]) == (
        206,
        data[10:20],
        f"bytes 10-19/{len(data)}",
    )
    assert ranged.headers["content-length"] == "10"
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(len(data)))
    for answer in (whole, ranged, head):
        assert answer.headers["content-type"] == WHEEL
        assert {k: answer.headers[k] for k in EXTRA} == EXTRA


def test_a_get_goes_to_the_blob_server_with_the_headers_and_a_head_is_answered_here(blobs: FilesystemBlobStore) -> None:
    digest = stored(blobs, LARGE)
    with _client(blobs, BlobUrls(SECRET, "http://127.0.0.1:9")) as client:
        moved = client.get(f"/files/{digest}")
        head = client.head(f"/files/{digest}")
    assert moved.status_code == 307
    assert moved.headers["location"].startswith(f"http://127.0.0.1:9/blobs/sha256/{digest.hex}?e=")
    assert {k: moved.headers[k] for k in EXTRA} == EXTRA
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(LARGE)))


def test_a_small_blob_is_answered_with_the_bytes_just_checked_even_with_a_blob_server(
    blobs: FilesystemBlobStore,
) -> None:
    """No redirect for what fits in memory: a client fetching many small files (pip, Maven, npm)
    saves a round trip and a connection per file, and the bytes are read once."""
    digest = stored(blobs, DATA)
    with _client(blobs, BlobUrls(SECRET, "http://127.0.0.1:9")) as client:
        answer = client.get(f"/files/{digest}")
    assert (answer.status_code, answer.content) == (200, DATA)
    assert {k: answer.headers[k] for k in EXTRA} == EXTRA


def test_a_missing_blob_is_left_to_the_callers_error_shape(local: httpx.Client) -> None:
    answer = local.get(f"/files/{Digest.of(b'never stored')}")
    assert answer.status_code == 404
    assert answer.text.startswith("not here: ")
