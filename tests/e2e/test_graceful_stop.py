"""A stop (SIGTERM, as systemd and container runtimes send) lets what is under way finish: a large
download still running when the signal comes arrives whole, from the main port and from the
sendfile blob server alike; nothing new is taken once the signal is in; the server exits 0."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from scripts.demo import new_admin_token, serving

pytestmark = pytest.mark.slow
SIZE = 48 * 1024 * 1024


@pytest.mark.parametrize("blob_port", ["0", "default"])
def test_a_download_under_way_finishes_after_sigterm(tmp_path: Path, blob_port: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    admin = new_admin_token()
    env = {"HOIST_DATABASE_URL": f"sqlite:///{data / 'hoist.db'}"} | ({"HOIST_BLOB_PORT": "0"} if blob_port == "0" else {})
    body = os.urandom(SIZE)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    with serving(data, env, admin_token=admin) as (url, process):
        auth = {"Authorization": f"Bearer {admin}"}
        assert httpx.put(f"{url}/generic/dev/big/1.0.0/big.bin", content=body, headers=auth, timeout=60).status_code == 201
        received = bytearray()
        first_chunk, finished = threading.Event(), threading.Event()
        answer: dict[str, int] = {}

        def download() -> None:  # a slow reader: the transfer is still under way when the signal comes
            with httpx.stream("GET", f"{url}/api/v1/blobs/{digest}", headers=auth, timeout=60, follow_redirects=True) as r:
                answer["status"] = r.status_code
                for chunk in r.iter_bytes(1024 * 1024):
                    received.extend(chunk)
                    first_chunk.set()
                    finished.wait(0.02)
            finished.set()

        reader = threading.Thread(target=download)
        reader.start()
        assert first_chunk.wait(30)
        process.send_signal(signal.SIGTERM)
        reader.join(60)
        assert answer["status"] == 200 and len(received) == SIZE and hashlib.sha256(received).hexdigest() == digest[7:]
        assert process.wait(30) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz")
