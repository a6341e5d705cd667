"""Real PyPI clients (build, twine, pip, uv) against the /pypi view."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from hoist.formats.pypi import simple
from hoist.formats.pypi.distributions import parse_filename, read_metadata
from tests.e2e import pypi_clients as clients
from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow

NAME, MODULE = "tinypkg-demo", "tinypkg_demo"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> clients.Built:
    return clients.build_package(tmp_path_factory.mktemp("build"), NAME, "0.1.0", MODULE)


class _Recorded(SimpleHTTPRequestHandler):
    requested: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        self.requested.append(self.path)


@pytest.fixture
def static_index(tmp_path: Path, built: clients.Built) -> Iterator[tuple[str, list[str]]]:
    """The pages simple.py renders for ``built``, written out and served by a plain file server."""
    root = tmp_path / "www"
    files, entries = root / "files" / NAME / "0.1.0", []
    files.mkdir(parents=True)
    for path in built.files:
        data = path.read_bytes()
        (files / path.name).write_bytes(data)
        dist = parse_filename(path.name)
        with path.open("rb") as file:
            meta = read_metadata(dist, file)
        meta_sha = None
        if dist.kind == "bdist_wheel":
            (files / dist.metadata_name).write_bytes(meta.raw)
            meta_sha = hashlib.sha256(meta.raw).hexdigest()
        url = f"../../files/{NAME}/0.1.0/{path.name}"
        sha = hashlib.sha256(data).hexdigest()
        now = datetime.now(UTC)
        entries.append(simple.IndexFile(path.name, url, sha, len(data), now, meta.requires_python, meta_sha, None))
    page = root / "simple" / NAME / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(simple.project_page(NAME, ["0.1.0"], entries, "html"))
    requested: list[str] = []
    handler = type("Handler", (_Recorded,), {"requested": requested})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", requested
    finally:
        server.shutdown()
        server.server_close()


def test_pip_and_uv_install_from_the_pages_simple_renders(
    static_index: tuple[str, list[str]], built: clients.Built, tmp_path: Path
) -> None:
    """The harness and the renderer together: pip checks the core metadata file against its
    advertised hash and the wheel against the pinned hash; uv reads the same page."""
    index, requested = static_index
    clients.pip_install(index, tmp_path / "plain", f"{NAME}==0.1.0")
    # PEP 658: pip resolved from the core metadata file (its hash checked) before it fetched the wheel
    assert requested.index(f"/files/{NAME}/0.1.0/{built.wheel.name}.metadata") < requested.index(
        f"/files/{NAME}/0.1.0/{built.wheel.name}"
    )
    req = clients.requirements(tmp_path / "req.txt", {f"{NAME}==0.1.0": [built.wheel]})
    clients.pip_install(index, tmp_path / "pip", "--require-hashes", "-r", str(req))
    assert clients.hello(tmp_path / "pip", MODULE) == f"hello from {NAME} 0.1.0"
    clients.uv_install(index, tmp_path / "uv", f"{NAME}==0.1.0")
    assert clients.hello(tmp_path / "uv", MODULE) == f"hello from {NAME} 0.1.0"


def hoist(server: Server, *args: str, token: str | None = None) -> str:
    env = {**os.environ, "HOIST_URL": server.url, "HOIST_TOKEN": token or server.admin_token}
    done = clients.run(sys.executable, "-m", "hoist", *args, env=env)
    return done.stdout


def principal(server: Server, name: str, role: str, *, robot: bool = False) -> str:
    """A user (or robot) holding one role, and an API token for it."""
    hoist(server, "user", "create", name, "--role", role, *(["--robot"] if robot else []))
    made: dict[str, str] = json.loads(hoist(server, "token", "create", "--user", name, "--json"))
    return made["token"]


def test_twine_to_dev_then_pip_and_uv_from_prod_only_after_promotion(
    server: Server, built: clients.Built, tmp_path: Path
) -> None:
    ci = principal(server, "ci", "ci", robot=True)  # pushes into dev, nowhere else
    release = principal(server, "rel", "release")  # promotes
    ops = principal(server, "ops", "operator")  # reads prod only
    clients.twine_upload(f"{server.url}/pypi/dev/", "ci", ci, built.files)
    prod = clients.with_credentials(f"{server.url}/pypi/prod/simple/", "ops", ops)
    before = clients.pip_install(prod, tmp_path / "before", f"{NAME}==0.1.0", ok=False)
    assert before.returncode != 0 and "No matching distribution" in before.stderr
    # prod takes promotions only: twine is told so (403, "promote")
    direct = clients.twine_upload(f"{server.url}/pypi/prod/", "rel", release, [built.wheel], ok=False)
    said = direct.stdout + direct.stderr
    assert direct.returncode != 0 and "403" in said and "accepts no direct pushes" in said and "promote" in said
    hoist(server, "attest", f"pypi/{NAME}@0.1.0", "--type", "unit-tests", "--result", "pass", token=ci)
    hoist(server, "promote", f"pypi/{NAME}@0.1.0", "--to", "prod", token=release)
    req = clients.requirements(tmp_path / "req.txt", {f"{NAME}==0.1.0": built.files})
    clients.pip_install(prod, tmp_path / "pip", "--require-hashes", "-r", str(req))
    assert clients.hello(tmp_path / "pip", MODULE) == f"hello from {NAME} 0.1.0"
    clients.uv_install(prod, tmp_path / "uv", f"{NAME}==0.1.0")
    assert clients.hello(tmp_path / "uv", MODULE) == f"hello from {NAME} 0.1.0"
    # the bytes prod serves are the bytes twine uploaded to dev
    page_url = f"{server.url}/pypi/prod/simple/{NAME}/"
    page = httpx.get(page_url, headers={"Accept": simple.JSON}, auth=("ops", ops)).json()
    for f in page["files"]:
        served = httpx.get(urljoin(page_url, f["url"]), auth=("ops", ops), follow_redirects=True)
        local = next(p for p in built.files if p.name == f["filename"])
        assert hashlib.sha256(served.content).hexdigest() == f["hashes"]["sha256"] == clients.sha256(local)
