"""Blob uploads and downloads over /api/v1: streamed, resumable, verified, bounded."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.storage.filesystem import FilesystemBlobStore

API = "/api/v1"


def test_monolithic_upload_in_one_request(http: httpx.Client, blobs: FilesystemBlobStore) -> None:
    data = b"one shot"
    r = http.post(f"{API}/uploads", params={"digest": str(Digest.of(data))}, content=data)
    assert r.status_code == 201 and r.json() == {"digest": str(Digest.of(data)), "size": 8}
    assert blobs.stat(Digest.of(data)).size == 8


def test_chunked_upload_with_offsets_then_commit(http: httpx.Client) -> None:
    start = http.post(f"{API}/uploads")
    assert start.status_code == 202
    upload_id = start.json()["upload_id"]
    assert start.headers["location"] == f"{API}/uploads/{upload_id}"
    r1 = http.patch(f"{API}/uploads/{upload_id}", content=b"hello ", headers={"Upload-Offset": "0"})
    assert r1.json()["offset"] == 6
    r2 = http.patch(f"{API}/uploads/{upload_id}", content=b"chunked ", headers={"Content-Range": "6-13"})
    assert r2.json()["offset"] == 14
    assert http.get(f"{API}/uploads/{upload_id}").json()["offset"] == 14
    done = http.put(
        f"{API}/uploads/{upload_id}", params={"digest": str(Digest.of(b"hello chunked world"))}, content=b"world"
    )
    assert done.status_code == 201 and done.json()["size"] == 19
    blob = http.get(f"{API}/blobs/{Digest.of(b'hello chunked world')}")
    assert blob.content == b"hello chunked world"
    assert blob.headers["docker-content-digest"] == str(Digest.of(b"hello chunked world"))


def test_an_out_of_order_chunk_gets_416_with_the_real_offset(http: httpx.Client) -> None:
    upload_id = http.post(f"{API}/uploads").json()["upload_id"]
    http.patch(f"{API}/uploads/{upload_id}", content=b"abc")
    r = http.patch(f"{API}/uploads/{upload_id}", content=b"xyz", headers={"Upload-Offset": "10"})
    assert r.status_code == 416
    assert r.json()["error"] == {
        "code": "UPLOAD_OUT_OF_ORDER",
        "message": "the chunk starts at byte 10 but the upload holds 3 bytes",
        "details": {"offset": 3},
    }
    assert http.get(f"{API}/uploads/{upload_id}").json()["offset"] == 3


def test_a_wrong_digest_is_refused_and_nothing_becomes_visible(http: httpx.Client, blobs: FilesystemBlobStore) -> None:
    upload_id = http.post(f"{API}/uploads").json()["upload_id"]
    http.patch(f"{API}/uploads/{upload_id}", content=b"real")
    r = http.put(f"{API}/uploads/{upload_id}", params={"digest": str(Digest.of(b"fake"))})
    assert r.status_code == 400 and r.json()["error"]["code"] == "DIGEST_MISMATCH"
    assert list(blobs.digests()) == [] and list(blobs.uploads()) == []
    assert http.get(f"{API}/blobs/{Digest.of(b'real')}").status_code == 404


@pytest.mark.parametrize("digest", ["sha256:short", "md5:abc", "nonsense"])
def test_invalid_digests_are_refused(http: httpx.Client, digest: str) -> None:
    r = http.post(f"{API}/uploads", params={"digest": digest}, content=b"x")
    assert r.status_code == 400 and r.json()["error"]["code"] == "DIGEST_INVALID"
    assert http.get(f"{API}/blobs/{digest}").status_code == 400


def test_oversize_uploads_are_refused_up_front_and_while_streaming(http: httpx.Client, blobs: FilesystemBlobStore) -> None:
    limit = 8 * 1024 * 1024  # the test settings' max_upload_bytes
    big = b"\0" * (limit + 1)
    r = http.post(f"{API}/uploads", params={"digest": str(Digest.of(big))}, content=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "TOO_LARGE"
    # no Content-Length (chunked transfer): the limit is enforced as bytes arrive
    upload_id = http.post(f"{API}/uploads").json()["upload_id"]
    r = http.patch(f"{API}/uploads/{upload_id}", content=iter([b"\0" * (1024 * 1024)] * 9))
    assert r.status_code == 413
    assert http.get(f"{API}/uploads/{upload_id}").status_code == 404  # discarded, not half-written
    assert list(blobs.digests()) == [] and list(blobs.uploads()) == []


def test_cancel_and_unknown_uploads(http: httpx.Client) -> None:
    upload_id = http.post(f"{API}/uploads").json()["upload_id"]
    assert http.delete(f"{API}/uploads/{upload_id}").status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        r = http.request(method, f"{API}/uploads/{upload_id}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "UPLOAD_UNKNOWN"
    assert http.get(f"{API}/uploads/..%2F..%2Fetc").status_code == 404


def test_range_requests_on_blobs(http: httpx.Client) -> None:
    data = bytes(range(256)) * 100
    http.post(f"{API}/uploads", params={"digest": str(Digest.of(data))}, content=data)
    r = http.get(f"{API}/blobs/{Digest.of(data)}", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    head = http.head(f"{API}/blobs/{Digest.of(data)}")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))


def test_client_uploads_large_files_in_one_streamed_pass(client: HoistClient, tmp_path: Path) -> None:
    data = bytes(range(256)) * (40 * 1024)  # 10 MiB: above the one-request threshold, under no limit
    path = tmp_path / "big.bin"
    path.write_bytes(data[: 7 * 1024 * 1024 + 3])
    seen: list[int] = []
    blob = client.upload(path, seen.append)
    assert blob == {"digest": str(Digest.of(path.read_bytes())), "size": path.stat().st_size}
    assert sum(seen) == path.stat().st_size


def test_client_downloads_verify_every_byte(client: HoistClient, tmp_path: Path, blobs: FilesystemBlobStore) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"trust but verify")
    blob = client.upload(src)
    client.download(blob["digest"], blob["size"], tmp_path / "ok.bin")
    assert (tmp_path / "ok.bin").read_bytes() == b"trust but verify"
    stored = blobs.path(Digest.parse(blob["digest"]))
    assert stored is not None
    stored.write_bytes(b"tampered on disk")  # the server now holds corrupt bytes
    with pytest.raises(e.IntegrityFailure):
        client.download(blob["digest"], blob["size"], tmp_path / "bad.bin")
    assert not (tmp_path / "bad.bin").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


class _DropsFirstPatchHalfway(httpx.BaseTransport):
    """Delivers half of the first PATCH body to the server, then fails as a broken connection would."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.dropped = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and not self.dropped:
            self.dropped = True
            body = request.read()
            half = httpx.Request(
                "PATCH",
                request.url,
                headers={"Upload-Offset": request.headers["upload-offset"]},
                content=body[: len(body) // 2],
            )
            self.inner.handle_request(half).read()
            raise httpx.WriteError("connection reset by peer")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_client_resumes_an_interrupted_upload_where_the_server_stopped(  # type: ignore[no-untyped-def]
    settings, services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, admin_token: str
) -> None:
    from hoist.app import build_app
    from hoist.client import transfers

    monkeypatch.setattr(transfers, "SMALL", 1024 * 1024)  # stream files over 1 MiB
    from tests.asgi import SyncASGITransport

    flaky = _DropsFirstPatchHalfway(SyncASGITransport(build_app(settings, services)))
    with httpx.Client(transport=flaky, base_url="http://hoist.test") as http_client:
        client = HoistClient("http://hoist.test", token=admin_token, http=http_client)
        path = tmp_path / "big.bin"
        path.write_bytes(bytes(range(256)) * (12 * 1024))  # 3 MiB: the streamed path
        seen: list[int] = []
        blob = client.upload(path, seen.append)
    assert flaky.dropped
    assert blob == {"digest": str(Digest.of(path.read_bytes())), "size": path.stat().st_size}
    assert -1 in seen  # the progress bar was told to re-count from the resumed offset
