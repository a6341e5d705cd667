"""Blob downloads that leave the process zero-copy: a small HTTP/1.1 server that answers signed,
expiring blob URLs with ``sendfile(2)`` (asyncio's ``loop.sendfile``), the way Go's registry and
nginx serve files.

/v2 and /api/v1 authorise a blob GET as usual, then answer ``307`` to
``/blobs/<algorithm>/<hex>?e=<expiry>&s=<HMAC-SHA256>`` on this server (as a registry backed by S3
redirects to a presigned URL, which every OCI client follows). A URL names one blob, for
``expires_in`` seconds, and is checked in constant time; nothing else is served. Ranges (as
``hoist.domain.ranges`` reads them) and keep-alive are supported; HEAD answers the headers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hoist.domain.digests import Digest
from hoist.domain.errors import IntegrityFailure, InvalidDigest, RangeNotSatisfiable
from hoist.domain.ranges import parse_range, unsatisfiable

log = logging.getLogger("hoist.blobs")
_PATH = re.compile(r"/blobs/(sha256|sha512)/([a-f0-9]{64}|[a-f0-9]{128})")
MAX_HEAD = 16 * 1024
URL_SECONDS = 300


class BlobUrls:
    """Signs and checks the URLs; shared by the app (which signs) and the server (which checks)."""

    def __init__(self, secret: bytes, base: str | None = None) -> None:
        self._key = hashlib.sha256(b"hoist blob urls\0" + secret).digest()  # not the token key itself
        self.base = base  # e.g. "http://:8081": the request's host name is filled in when empty

    def sign(self, digest: Digest, *, expires_in: int, now: float | None = None) -> str:
        expiry = int(now if now is not None else time.time()) + expires_in
        path = f"/blobs/{digest.algorithm}/{digest.hex}"
        return f"{path}?e={expiry}&s={self._mac(path, expiry)}"

    def check(self, path: str, expiry: str, signature: str, *, now: float | None = None) -> bool:
        if not expiry.isdigit() or int(expiry) < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(signature.encode(), self._mac(path, int(expiry)).encode())

    def _mac(self, path: str, expiry: int) -> str:
        mac = hmac.new(self._key, f"{path}\n{expiry}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def absolute(self, signed: str, host: str | None, scheme: str = "http") -> str:
        """The URL a client follows: ``base`` when configured with a host, else the host name the
        client used for the request, on the blob server's port."""
        base = self.base or ""
        parts = urlsplit(base)
        if parts.hostname:
            return base.rstrip("/") + signed
        name = (host or "127.0.0.1").rsplit(":", 1)[0] if not (host or "").endswith("]") else host or ""
        return f"{parts.scheme or scheme}://{name}:{parts.port}{signed}"


def redirect(urls: BlobUrls | None, request: Request, digest: Digest, headers: dict[str, str]) -> Response | None:
    """The 307 to the blob server for a GET, when one runs; None to serve the blob here."""
    if urls is None or request.method != "GET":
        return None
    signed = urls.sign(digest, expires_in=URL_SECONDS)
    return RedirectResponse(urls.absolute(signed, request.headers.get("host"), request.url.scheme), 307, headers=headers)


class BlobServer:
    def __init__(self, urls: BlobUrls, locate: Callable[[Digest], Path | None]) -> None:
        self.urls = urls
        self.locate = locate
        self._connections: set[asyncio.Task[None]] = set()
        self._idle: set[asyncio.Task[None]] = set()  # waiting for a request on a kept connection
        self._draining = False

    async def drain(self, grace: float) -> int:
        """Stop: connections waiting for a request close now; transfers under way finish, for up to
        ``grace`` seconds, then are cut. The number cut."""
        self._draining = True
        for idle in list(self._idle):
            idle.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=grace)
        late = [t for t in self._connections if not t.done()]
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
        return len(late)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        assert me is not None
        self._connections.add(me)
        keep = True
        try:
            while keep and not self._draining:
                self._idle.add(me)
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                finally:
                    self._idle.discard(me)
                keep = await self._one(head, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            log.debug("blob client went away: %s", type(exc).__name__)  # closed, or a head too large
        except Exception:  # one connection's failure never takes the server down
            log.exception("blob server connection failed")
        finally:
            self._connections.discard(me)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one(self, head: bytes, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; whether the connection stays open for another."""
        keep, method = False, ""
        try:
            method, target, headers, keep = _parse(head)
            keep = keep and not self._draining
            digest = self._authorised(target)
            try:
                path = await asyncio.to_thread(self.locate, digest)  # may re-hash a small blob: off the loop
            except IntegrityFailure as exc:  # marked corrupt by fsck: never served as good
                raise _Refuse(500, exc.message) from None
            if path is None:
                raise _Refuse(404, "no such blob")
            with path.open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                try:
                    wanted = parse_range(headers.get("range"), size)
                except RangeNotSatisfiable:
                    raise _Refuse(416, "range not satisfiable", size=size) from None
                partial = wanted is not None
                start, end = (wanted.start, wanted.end) if wanted is not None else (0, size - 1)
                lines = [
                    f"HTTP/1.1 {'206 Partial Content' if partial else '200 OK'}",
                    "Content-Type: application/octet-stream",
                    f"Content-Length: {end - start + 1}",
                    f"Docker-Content-Digest: {digest}",
                    f'ETag: "{digest}"',
                    "Accept-Ranges: bytes",
                    "Cache-Control: max-age=31536000, immutable",
                    f"Connection: {'keep-alive' if keep else 'close'}",
                    *([f"Content-Range: bytes {start}-{end}/{size}"] if partial else []),
                ]
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
                await writer.drain()
                if method == "GET" and end >= start:
                    await asyncio.get_running_loop().sendfile(writer.transport, f, start, end - start + 1)
            return keep
        except _Refuse as refusal:
            return await _status(writer, refusal, close=refusal.fatal or not keep, head=method == "HEAD")

    def _authorised(self, target: str) -> Digest:
        url = urlsplit(target)
        query = parse_qs(url.query)
        m = _PATH.fullmatch(url.path)
        if m is None or not self.urls.check(url.path, query.get("e", [""])[0], query.get("s", [""])[0]):
            raise _Refuse(403, "this blob URL is not valid (or expired): ask the registry again")
        try:
            return Digest.parse(f"{m[1]}:{m[2]}")
        except InvalidDigest:
            raise _Refuse(404, "no such blob") from None


class _Refuse(Exception):
    def __init__(self, status: int, message: str, *, fatal: bool = False, size: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.fatal, self.size = status, message, fatal, size


def _parse(head: bytes) -> tuple[str, str, dict[str, str], bool]:
    """(method, target, headers, keep-alive) of a request head, or a refusal."""
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise _Refuse(400, "bad request line", fatal=True) from None
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if method not in {"GET", "HEAD"}:
        raise _Refuse(405, "only GET and HEAD", fatal=True)  # its body, if any, is not read: close
    if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
        raise _Refuse(400, "a blob request has no body", fatal=True)
    return method, target, headers, keep


async def _status(writer: asyncio.StreamWriter, refusal: _Refuse, *, close: bool, head: bool) -> bool:
    body = refusal.message.encode()
    extra = f"Content-Range: {unsatisfiable(refusal.size)}\r\n" if refusal.size is not None else ""
    writer.write(
        (
            f"HTTP/1.1 {refusal.status} {refusal.message}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\n{extra}"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
        ).encode()
        + (b"" if head else body)  # a HEAD answer has no body: on a kept connection it would be read as the next
    )
    await writer.drain()
    return not close


class Running:
    """A blob server running in a thread; ``stop()`` stops it taking connections, lets the
    transfers under way finish (for up to ``grace`` seconds) and waits for the thread."""

    def __init__(
        self, thread: threading.Thread, loop: asyncio.AbstractEventLoop, done: asyncio.Event, grace: list[float]
    ) -> None:
        self.thread, self._loop, self._done, self._grace = thread, loop, done, grace
        self._closing: list[Callable[[], None]] = []

    def close_on_stop(self, close: Callable[[], None]) -> None:
        """Release something the server used (its metadata store's connections) once it stopped."""
        self._closing.append(close)

    def stop(self, grace: float = 0.0) -> None:
        self._grace[0] = grace
        self._loop.call_soon_threadsafe(self._done.set)
        self.thread.join(grace + 10)
        for close in self._closing:
            close()


def serve_in_thread(server: BlobServer, host: str, port: int) -> Running:
    """Run the blob server on its own event loop in a daemon thread (of ``hoist serve``'s main
    process: sendfile leaves the copying to the kernel, so one thread keeps up with the disk)."""
    started = threading.Event()
    failures: list[OSError] = []
    handles: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
    grace = [0.0]  # set by Running.stop

    def run() -> None:
        async def main() -> None:
            done = asyncio.Event()
            try:
                listening = await asyncio.start_server(server.handle, host, port, limit=MAX_HEAD, reuse_address=True)
            except OSError as exc:
                failures.append(exc)
                started.set()
                return
            handles.append((asyncio.get_running_loop(), done))
            started.set()
            await done.wait()
            listening.close()  # no new connection from here on
            cut = await server.drain(grace[0])
            if cut:
                log.warning("blob server stopped: %d download(s) still under way after %gs were cut", cut, grace[0])

        asyncio.run(main())

    thread = threading.Thread(target=run, name="hoist-blobs", daemon=True)
    thread.start()
    started.wait(10)
    if failures:
        raise failures[0]
    loop, done = handles[0]
    return Running(thread, loop, done, grace)
