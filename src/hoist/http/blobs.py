"""Serving a blob's bytes, the one way every protocol does it (/v2, /api/v1, and the package rooms).

The caller has authorised the request and decided the blob belongs to what was asked for; this
answers with the bytes: ``services.serving.locate`` proves a small blob whole first and a very small
one is answered with the bytes it checked; else a ``307``
to the store's presigned URL or to the blob server (a GET of a local file), else the whole file by
pathsend or one range as a 206 (``http.ranges``). ``BlobNotFound``, ``BlobCorrupt`` and
``RangeNotSatisfiable`` propagate: each caller renders them in its own error shape.

Blocking (a small blob is re-hashed): call it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hoist.domain.digests import Digest
from hoist.http.blobserver import BlobUrls
from hoist.http.blobserver import redirect as redirect_to_blob_server
from hoist.http.ranges import OCTETS, blob_response
from hoist.services.blobs import Blobs
from hoist.services.serving import locate


class BlobResponses:
    def __init__(self, blobs: Blobs, urls: BlobUrls | None = None) -> None:
        self._blobs = blobs
        self._urls = urls

    def respond(
        self,
        request: Request,
        digest: Digest,
        headers: Mapping[str, str] = {},
        *,
        media_type: str = OCTETS,
        redirect: bool = True,
    ) -> Response:
        """The blob ``digest`` as ``request`` asks for it (GET or HEAD, Range), with ``headers`` (e.g.
        a checksum, Content-Disposition) on the answer. A redirect carries ``headers`` itself; the
        blob server then answers with the bytes alone, as a presigned store URL would."""
        where = locate(self._blobs, digest)
        sent = dict(headers)
        if where.data is not None:
            return blob_response(request, sent, where.info.size, None, where.data, media_type=media_type)
        # ``redirect=False`` for clients that follow none (curl -O): the bytes come from here
        if redirect and where.url:
            return RedirectResponse(where.url, status_code=307, headers=sent)
        if redirect and where.path and (moved := redirect_to_blob_server(self._urls, request, digest, sent)):
            return moved
        return blob_response(
            request, sent, where.info.size, where.path, lambda at: self._blobs.open(digest, at), media_type=media_type
        )
