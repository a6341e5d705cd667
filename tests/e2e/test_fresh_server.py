"""The test harness itself: ``fresh_server`` must not fail a test because another process, running
side by side under pytest-xdist, took the blob server's port between the check and the bind."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import scripts.demo
from scripts.demo import fresh_server, new_admin_token

pytestmark = pytest.mark.slow


def test_a_port_taken_between_the_check_and_the_bind_starts_the_server_on_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        blob_port = int(taken.getsockname()[1])
        ports = iter([blob_port - 1])  # the first pick: its next port (the blob server's) is already held
        real = scripts.demo.free_port
        monkeypatch.setattr(scripts.demo, "free_port", lambda following=0: next(ports, None) or real(following))
        env = {"HOIST_DATABASE_URL": f"sqlite:///{data / 'hoist.db'}"}
        with fresh_server(data, env, admin_token=new_admin_token()) as url:
            assert not url.endswith(f":{blob_port - 1}")
            assert "address already in use" not in (data / "server.log").read_text()
