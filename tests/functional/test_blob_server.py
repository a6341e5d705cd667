"""The sendfile blob server: signed, expiring URLs only; ranges, HEAD, keep-alive; and the 307 the
registry answers a blob GET with when it runs."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hoist.config import Settings
from hoist.domain.digests import Digest
from hoist.http.blobserver import BlobServer, BlobUrls, serve_in_thread
from hoist.storage.filesystem import FilesystemBlobStore
from tests.conftest import put_bytes
from tests.functional.oci_helpers import push_blob

SECRET = b"a secret of at least thirty-two bytes!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stored(blobs: FilesystemBlobStore, data: bytes) -> Digest:
    return put_bytes(blobs, data).digest


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[str, BlobUrls, FilesystemBlobStore]]:
    blobs = FilesystemBlobStore(tmp_path / "store", fsync=False)
    port = free_port()
    urls = BlobUrls(SECRET, f"http://:{port}")
    server = serve_in_thread(BlobServer(urls, blobs.path), "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}", urls, blobs
    server.stop()
    assert not server.thread.is_alive()


def test_a_signed_url_serves_the_blob_whole_in_ranges_and_by_head(
    running: tuple[str, BlobUrls, FilesystemBlobStore],
) -> None:
    base, urls, blobs = running
    data = bytes(range(256)) * 4000
    digest = stored(blobs, data)
    url = base + urls.sign(digest, expires_in=60)
    with httpx.Client() as http:  # one connection, kept alive across requests
        whole = http.get(url)
        assert whole.status_code == 200 and whole.content == data
        assert whole.headers["docker-content-digest"] == str(digest) and whole.headers["accept-ranges"] == "bytes"
        part = http.get(url, headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == data[1000:2000]
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
        assert http.get(url, headers={"Range": "bytes=-10"}).content == data[-10:]
        assert http.get(url, headers={"Range": f"bytes={len(data) - 5}-"}).content == data[-5:]
        unsatisfiable = http.get(url, headers={"Range": f"bytes={len(data)}-"})
        assert unsatisfiable.status_code == 416 and unsatisfiable.headers["content-range"] == f"bytes */{len(data)}"
        head = http.head(url)
        assert head.status_code == 200 and head.headers["content-length"] == str(len(data)) and head.content == b""


def test_nothing_but_a_valid_signed_url_is_served(running: tuple[str, BlobUrls, FilesystemBlobStore]) -> None:
    base, urls, blobs = running
    digest = stored(blobs, b"secret bytes")
    other = stored(blobs, b"other bytes")
    good = urls.sign(digest, expires_in=60)
    path, _, query = good.partition("?")
    with httpx.Client() as http:
        assert http.get(base + good).content == b"secret bytes"
        expired = urls.sign(digest, expires_in=-1)
        assert http.get(base + expired).status_code == 403
        tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
        assert http.get(base + tampered).status_code == 403
        assert http.get(f"{base}/blobs/{other.algorithm}/{other.hex}?{query}").status_code == 403  # another blob
        assert http.get(base + path).status_code == 403  # unsigned
        assert http.get(base + "/../../etc/passwd").status_code == 403
        forged = BlobUrls(b"another secret entirely, 32 bytes+", urls.base).sign(digest, expires_in=60)
        assert http.get(base + forged).status_code == 403
        gone = Digest.of(b"never stored")
        assert http.get(base + urls.sign(gone, expires_in=60)).status_code == 404
        assert http.post(base + good).status_code == 405
    assert BlobUrls(SECRET).check(path, str(int(time.time()) + 60), "x") is False


@pytest.fixture
def config_text() -> str:
    return f"[server]\nblob_port = {free_port()}\n"


def test_the_registry_redirects_blob_gets_to_the_blob_server(settings: Settings, http: httpx.Client) -> None:
    from hoist.app import start_blob_server

    server = start_blob_server(settings)
    assert server is not None
    data = b"layer bytes" * 100_000  # past what is answered from memory (services.serving.INLINE_UP_TO)
    blob = push_blob(http, "dev/shop/api", data)
    answer = http.get(f"/v2/dev/shop/api/blobs/{blob['digest']}")
    assert answer.status_code == 307 and answer.headers["docker-content-digest"] == blob["digest"]
    location = answer.headers["location"]
    assert location.startswith(f"http://hoist.test:{settings.blob_port}/blobs/sha256/")
    direct = location.replace("hoist.test", "127.0.0.1")
    assert httpx.get(direct).content == data
    assert http.head(f"/v2/dev/shop/api/blobs/{blob['digest']}").status_code == 200  # HEAD is answered here
    api = http.get(f"/api/v1/blobs/{blob['digest']}")
    assert api.status_code == 307 and "/blobs/sha256/" in api.headers["location"]
    # still authorised first: no redirect for someone who may not read it
    assert http.get(f"/v2/dev/shop/api/blobs/{blob['digest']}", headers={"Authorization": ""}).status_code == 401
    server.stop()
