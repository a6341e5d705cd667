"""Request bodies over a real socket to ``hoist serve``: nobody is answered before sending a byte."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow


def test_nobody_announcing_223_mb_is_answered_401_before_sending_the_body(server: Server) -> None:
    url = urlparse(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=60) as conn:
        head = (
            "POST /api/v1/artifacts HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {223 * 1024 * 1024}\r\n\r\n"
        )
        conn.sendall(head.encode())  # and not one byte of the body: the answer must not wait for it
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"401", answer[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "UNAUTHORIZED"
