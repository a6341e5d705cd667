"""The npm wire pieces (publish documents, tarball checks, packuments) against the real npm 11,
served by a registry of a few lines that keeps everything in memory: what npm sends is what
``formats/npm`` parses, and what it renders is what npm installs from."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from hoist.formats.npm import documents, names, packuments, paths, tarballs
from hoist.formats.npm.paths import Kind
from tests.e2e.npm import Npm, consumer, package

pytestmark = pytest.mark.slow


class Store:
    def __init__(self) -> None:
        self.releases: dict[str, list[packuments.Release]] = {}
        self.files: dict[str, bytes] = {}
        self.puts: list[str] = []


def handler(store: Store, base: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            target = paths.parse(unquote(self.path.split("?")[0]))
            if target.kind is Kind.TARBALL:
                self._send(200, store.files[target.file], "application/octet-stream")
                return
            held = packuments.one_per_version(store.releases.get(target.name, []))
            if not held:
                self._send(404, b'{"error":"not found"}')
                return

            def url(version: str) -> str:
                return f"{base}{target.name}/-/{names.tarball_name(target.name, version)}"

            render = packuments.abbreviated if packuments.ABBREVIATED in self.headers.get("Accept", "") else packuments.full
            self._send(200, json.dumps(render(target.name, held, {}, url)).encode())

        def do_PUT(self) -> None:
            target = paths.parse(unquote(self.path))
            store.puts.append(self.path)
            doc = documents.read_document(self.rfile.read(int(self.headers["Content-Length"])), target.name)
            pub = documents.publication(doc, target.name)
            sink = io.BytesIO()
            digests = tarballs.decode_attachment(pub.data, sink)
            _, manifest = tarballs.package_json(sink)
            documents.check_tarball(pub, digests, manifest)
            store.files[names.tarball_name(pub.name, pub.version)] = sink.getvalue()
            release = packuments.Release(names.npm_version(pub.version), manifest, digests, datetime.now(UTC))
            store.releases.setdefault(pub.name, []).append(release)
            self._send(201, b'{"ok":true}')

    return Handler


@pytest.fixture
def registry() -> Iterator[tuple[str, Store]]:
    store = Store()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    server.RequestHandlerClass = handler(store, base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, store
    server.shutdown()
    server.server_close()


def test_npm_publishes_and_installs_through_the_wire_pieces(registry: tuple[str, Store], tmp_path: Path) -> None:
    base, store = registry
    npm = Npm.installed(tmp_path / "home", base)
    npm.login("any-token")
    npm.run("publish", cwd=package(tmp_path / "plain", "tiny-plain", "1.0.0"))
    npm.run("publish", cwd=package(tmp_path / "scoped", "@acme/tiny", "2.1.0", dependencies={"tiny-plain": "^1.0.0"}))
    assert "/@acme%2ftiny" in store.puts  # the scoped name arrives %2f-encoded

    app = consumer(tmp_path / "app", {"@acme/tiny": "^2.0.0"})
    npm.run("install", cwd=app)
    lock = json.loads((app / "package-lock.json").read_text())["packages"]
    for name, file in (("tiny-plain", "tiny-plain-1.0.0.tgz"), ("@acme/tiny", "tiny-2.1.0.tgz")):
        entry = lock[f"node_modules/{name}"]
        assert entry["resolved"] == f"{base}{name}/-/{file}"
        assert entry["integrity"] == tarballs.digests_of(io.BytesIO(store.files[file])).integrity
    assert (app / "node_modules/@acme/tiny/index.js").read_text().count("@acme/tiny@2.1.0") == 1
    npm.run("ci", cwd=app)
