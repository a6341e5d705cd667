"""The pull hot path, as raw ASGI: manifest GET/HEAD and tags lists, answered before any framework
routing. Whatever it cannot answer (a miss, odd input, a write) goes on to the full /v2 app, which
gives the precise error; so this path only ever speeds up what the full app would also answer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from hoist.formats.oci.access import may
from hoist.formats.oci.lookups import HotLookups
from hoist.http.identity import SCOPE_KEY

log = logging.getLogger("hoist.oci")
T = TypeVar("T")
_MANIFEST = re.compile(r"/v2/([a-z0-9][^/]*)/(.+)/manifests/([^/]+)")
_TAGS = re.compile(r"/v2/([a-z0-9][^/]*)/(.+)/tags/list")
_VERSION_HEADER = (b"docker-distribution-api-version", b"registry/2.0")
DEFAULT_PAGE = 1000


def paginate(items: list[str], n: int | None, last: str | None, base: str) -> tuple[list[str], str | None]:
    """One page of sorted names after ``last``, and the Link header to the next page, if any."""
    if last:
        items = [i for i in items if i > last]
    limit = DEFAULT_PAGE if n is None else n
    page = items[:limit]
    if len(items) > limit and page:
        return page, f'<{base}?n={limit}&last={page[-1]}>; rel="next"'
    return page, None


def _may_pull(scope: Scope, registry: str) -> bool:
    """Whether the request may read the repository; when not, the full path denies it (audited)."""
    return may(scope[SCOPE_KEY], registry, "pull")


class OciHotPath:
    def __init__(self, app: ASGIApp, lookups: HotLookups) -> None:
        self.app = app
        self.lookups = lookups

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in {"GET", "HEAD"}:
            try:
                if await self._answer(scope, send):
                    return
            except Exception:  # the full app will meet the same problem and report it properly
                log.exception("hot path failed for %s; taking the full path", scope["path"])
        await self.app(scope, receive, send)

    async def _call(self, lookup: Callable[..., T], *args: str) -> T:
        # An embedded database answers in microseconds: inline is cheaper than a thread hop. A
        # server over the network would stall the event loop for every round trip: use threads.
        if self.lookups.local:
            return lookup(*args)
        return await run_in_threadpool(lookup, *args)

    async def _answer(self, scope: Scope, send: Send) -> bool:
        path: str = scope["path"]
        if path.endswith("/tags/list"):
            return await self._tags(scope, send)
        m = _MANIFEST.fullmatch(path)
        if m is None or not _may_pull(scope, m[1]):
            return False
        found = await self._call(self.lookups.manifest, m[1], m[2], m[3])
        if found is None:
            return False
        headers = [
            (b"content-type", found.media_type.encode()),
            (b"content-length", str(len(found.raw)).encode()),
            (b"docker-content-digest", found.digest.encode()),
            (b"etag", f'"{found.digest}"'.encode()),
            _VERSION_HEADER,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else found.raw})
        return True

    async def _tags(self, scope: Scope, send: Send) -> bool:
        m = _TAGS.fullmatch(scope["path"])
        if m is None or not _may_pull(scope, m[1]):
            return False
        query = parse_qs(scope.get("query_string", b"").decode())
        n = query.get("n", [None])[0]
        if n is not None and not n.isdigit():
            return False
        names = await self._call(self.lookups.tags, m[1], m[2])
        if names is None:
            return False
        name = f"{m[1]}/{m[2]}"
        page, link = paginate(
            names, int(n) if n is not None else None, query.get("last", [None])[0], f"/v2/{name}/tags/list"
        )
        body = json.dumps({"name": name, "tags": page}, separators=(",", ":")).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), _VERSION_HEADER]
        if link:
            headers.append((b"link", link.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        return True
