"""Range requests on every path that serves blob bytes: the same answers from one parser.

A range that cannot be served (malformed, reversed, starting past the end, an empty suffix) is a
416 with ``Content-Range: bytes */<size>`` in each protocol's error shape; several ranges get the
whole blob (RFC 9110 lets a server ignore Range), and so does a unit other than bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hoist.domain.digests import Digest
from hoist.http.blobserver import BlobServer, BlobUrls, serve_in_thread
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.oci_helpers import push_blob
from tests.functional.test_blob_server import SECRET, free_port, stored

REPO = "dev/shop/api"
DATA = bytes(range(256)) * 4  # 1024 bytes
BAD = ["bytes=10-5", "bytes=abc", "bytes=500-0", "bytes=-0", "bytes=1024-", "bytes=5000-6000", "bytes=", "bytes=1-2-3"]
GOOD = [
    ("bytes=10-19", 10, 19),
    ("bytes=1000-", 1000, 1023),
    ("bytes=-24", 1000, 1023),
    ("bytes=1020-5000", 1020, 1023),
    ("bytes=-5000", 0, 1023),
    ("bytes = 0-0", 0, 0),
]
WHOLE = ["bytes=0-1,5-9", "items=0-3"]

Get = Callable[..., httpx.Response]


@pytest.fixture
def v2(http: httpx.Client) -> Get:
    blob = push_blob(http, REPO, DATA)
    return lambda header, method="GET": http.request(method, f"/v2/{REPO}/blobs/{blob['digest']}", headers=header)


@pytest.fixture
def api(http: httpx.Client) -> Get:
    http.post("/api/v1/uploads", params={"digest": str(Digest.of(DATA))}, content=DATA)
    return lambda header, method="GET": http.request(method, f"/api/v1/blobs/{Digest.of(DATA)}", headers=header)


@pytest.fixture
def blob_server(tmp_path: Path) -> Iterator[Get]:
    blobs = FilesystemBlobStore(tmp_path / "served", fsync=False)
    port = free_port()
    urls = BlobUrls(SECRET, f"http://:{port}")
    server = serve_in_thread(BlobServer(urls, blobs.path), "127.0.0.1", port)
    url = f"http://127.0.0.1:{port}" + urls.sign(stored(blobs, DATA), expires_in=60)
    with httpx.Client() as http:
        yield lambda header, method="GET": http.request(method, url, headers=header)
    server.stop()


@pytest.mark.parametrize("wanted", BAD)
def test_a_range_that_cannot_be_served_is_a_416_in_the_oci_error_shape(v2: Get, wanted: str) -> None:
    for method in ("GET", "HEAD"):
        r = v2({"Range": wanted}, method)
        assert r.status_code == 416, (method, r.status_code, r.text)
        assert r.headers["content-range"] == f"bytes */{len(DATA)}"
    assert v2({"Range": wanted}).json()["errors"][0]["code"] == "RANGE_INVALID"


@pytest.mark.parametrize("wanted", BAD)
def test_a_range_that_cannot_be_served_is_a_416_in_the_api_error_shape(api: Get, wanted: str) -> None:
    r = api({"Range": wanted})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(DATA)}"
    assert r.json()["error"]["code"] == "RANGE_INVALID" and repr(wanted) in r.json()["error"]["message"]
    assert api({"Range": wanted}, "HEAD").status_code == 416


@pytest.mark.parametrize("wanted", BAD)
def test_a_range_that_cannot_be_served_is_a_416_on_the_blob_server(blob_server: Get, wanted: str) -> None:
    for method in ("HEAD", "GET", "HEAD"):
        r = blob_server({"Range": wanted}, method)
        assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(DATA)}"
    # the connection stays usable: a HEAD's refusal carried no body to be read as the next answer
    assert blob_server({}).content == DATA


@pytest.mark.parametrize(("wanted", "first", "last"), GOOD)
def test_one_range_is_served_alike_everywhere(
    v2: Get, api: Get, blob_server: Get, wanted: str, first: int, last: int
) -> None:
    for get in (v2, api, blob_server):
        r = get({"Range": wanted})
        assert r.status_code == 206, r.text
        assert r.content == DATA[first : last + 1]
        assert r.headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
        assert r.headers["content-length"] == str(last - first + 1)
        head = get({"Range": wanted}, "HEAD")
        assert head.status_code == 206 and head.content == b"" and head.headers["content-length"] == str(last - first + 1)


@pytest.mark.parametrize("wanted", WHOLE)
def test_several_ranges_or_another_unit_get_the_whole_blob(v2: Get, api: Get, blob_server: Get, wanted: str) -> None:
    for get in (v2, api, blob_server):
        r = get({"Range": wanted})
        assert r.status_code == 200 and r.content == DATA and "content-range" not in r.headers


def test_the_api_documents_ranged_answers(http: httpx.Client) -> None:
    paths = http.get("/api/v1/openapi.json").json()["paths"]
    answers = next(ops["get"]["responses"] for path, ops in paths.items() if path.endswith("/blobs/{digest}"))
    assert {"200", "206", "416"} <= set(answers)
