"""Uploads over a real socket: a client that dies mid-body, and a server that restarts mid-upload."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import httpx
import pytest

from hoist.domain.digests import Digest
from scripts.demo import free_port, fresh_server
from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow


def second_process(server: Server) -> dict[str, str]:
    """The environment of another server over the same data, with a blob server port of its own."""
    return {**server.env, "HOIST_BLOB_PORT": str(free_port())}


def _auth(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_token}"}


def test_a_truncated_body_leaves_nothing_visible_and_the_upload_resumable(server: Server) -> None:
    with httpx.Client(base_url=server.url + "/api/v1", headers=_auth(server), follow_redirects=True) as api:
        _truncate_then_resume(server, api)


def _truncate_then_resume(server: Server, api: httpx.Client) -> None:
    upload_id = api.post("/uploads").json()["upload_id"]
    data = bytes(range(256)) * 16  # 4 KiB
    u = urlparse(server.url)
    with socket.create_connection((u.hostname, u.port)) as sock:
        head = (
            f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.admin_token}\r\n"
            f"Content-Length: {len(data)}\r\nUpload-Offset: 0\r\n\r\n"
        )
        sock.sendall(head.encode() + data[:1000])  # then the client dies
    digest = Digest.of(data)
    assert api.head(f"/blobs/{digest}").status_code == 404
    offset = _wait_for_offset(api, upload_id)
    assert 0 <= offset <= 1000
    rest = api.put(
        f"/uploads/{upload_id}",
        params={"digest": str(digest)},
        content=data[offset:],
        headers={"Upload-Offset": str(offset)},
    )
    assert rest.status_code == 201, rest.text
    assert api.get(f"/blobs/{digest}").content == data


def _wait_for_offset(api: httpx.Client, upload_id: str) -> int:
    import time

    deadline = time.monotonic() + 10
    while True:  # the server notices the disconnect asynchronously
        try:
            offset: int = api.get(f"/uploads/{upload_id}").json()["offset"]
            api.patch(f"/uploads/{upload_id}", content=b"", headers={"Upload-Offset": str(offset)}).raise_for_status()
            return offset
        except httpx.HTTPStatusError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_an_upload_survives_a_server_restart(server: Server) -> None:
    first_half, second_half = b"A" * 5000, b"B" * 7000
    with httpx.Client(base_url=server.url + "/api/v1", headers=_auth(server), follow_redirects=True) as api:
        upload_id = api.post("/uploads", content=first_half).json()["upload_id"]
    # a second server process over the same data (as after a restart or on another worker)
    with (
        fresh_server(server.data, second_process(server)) as url,
        httpx.Client(base_url=url + "/api/v1", headers=_auth(server), follow_redirects=True) as again,
    ):
        assert again.get(f"/uploads/{upload_id}").json()["offset"] == 5000
        done = again.put(
            f"/uploads/{upload_id}",
            params={"digest": str(Digest.of(first_half + second_half))},
            content=second_half,
            headers={"Upload-Offset": "5000"},
        )
        assert done.status_code == 201 and done.json()["size"] == 12000


def test_an_oci_chunked_upload_survives_a_server_restart(server: Server) -> None:
    first, second = b"x" * 3000, b"y" * 4000
    with httpx.Client(base_url=server.url, headers=_auth(server), follow_redirects=True) as api:
        location = api.post("/v2/dev/demo/app/blobs/uploads/").headers["location"]
        assert api.patch(location, content=first, headers={"Content-Range": "0-2999"}).status_code == 202
    with (
        fresh_server(server.data, second_process(server)) as url,
        httpx.Client(base_url=url, headers=_auth(server), follow_redirects=True) as again,
    ):
        status = again.get(location)
        assert status.status_code == 204 and status.headers["range"] == "0-2999"
        digest = Digest.of(first + second)
        done = again.put(location, params={"digest": str(digest)}, content=second, headers={"Content-Range": "3000-6999"})
        assert done.status_code == 201
        assert again.get(f"/v2/dev/demo/app/blobs/{digest}").content == first + second
