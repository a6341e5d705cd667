"""Blob uploads and downloads: streamed in, hashed on the way, verified before they become visible;
served zero-copy from a local file where the blob store has one."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import BlobOut, ErrorBody, UploadOut
from hoist.domain.access import Permission, Right
from hoist.domain.digests import Digest
from hoist.http.blobs import BlobResponses
from hoist.http.identity import actor_of
from hoist.http.streaming import receive_upload
from hoist.services.guard import Guard
from hoist.services.uploads import UploadService

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 416)}


def router(
    uploads: UploadService,
    guard: Guard,
    registries: list[str],
    holders: Callable[[str], set[str]],
    blobs: BlobResponses,
) -> APIRouter:
    """Uploading needs push (or promote) on some registry; downloading by digest needs read on a
    registry holding the blob (``holders``)."""
    api = APIRouter(tags=["uploads"], responses=ERRORS, route_class=BoundedRoute)
    pushers = [Permission(r, n) for n in registries for r in (Right.PUSH, Right.PROMOTE)]

    def uploader(request: Request) -> None:
        guard.require_any(actor_of(request), pushers, asked="upload a blob", subject="uploads")

    @api.post("/uploads", status_code=202, response_model=UploadOut | BlobOut)
    async def start_upload(request: Request, response: Response, digest: str | None = Query(None)) -> UploadOut | BlobOut:
        """Start an upload. With ``?digest=`` the body is the whole blob, committed at once."""
        uploader(request)
        expected = Digest.parse(digest) if digest else None
        session = await receive_upload(request, uploads, None)
        if expected is not None:
            info = await run_in_threadpool(session.commit, expected)
            response.status_code = 201
            return BlobOut(digest=str(info.digest), size=info.size)
        session.close()
        response.headers["Location"] = f"/api/v1/uploads/{session.upload_id}"
        return UploadOut(upload_id=session.upload_id, offset=session.size)

    @api.patch("/uploads/{upload_id}", status_code=202, response_model=UploadOut)
    async def append_upload(request: Request, upload_id: str) -> UploadOut:
        """Append the body to the upload. ``Upload-Offset`` (or ``Content-Range``) must equal the
        bytes already received, else 416 with the current offset in the error details."""
        uploader(request)
        session = await receive_upload(request, uploads, upload_id)
        session.close()
        return UploadOut(upload_id=upload_id, offset=session.size)

    @api.put("/uploads/{upload_id}", status_code=201, response_model=BlobOut)
    async def commit_upload(request: Request, upload_id: str, digest: str = Query(...)) -> BlobOut:
        """Append the body (if any), verify the whole upload hashes to ``digest``, publish it."""
        uploader(request)
        expected = Digest.parse(digest)
        session = await receive_upload(request, uploads, upload_id)
        info = await run_in_threadpool(session.commit, expected)
        return BlobOut(digest=str(info.digest), size=info.size)

    @api.get("/uploads/{upload_id}", response_model=UploadOut)
    def upload_status(request: Request, upload_id: str) -> UploadOut:
        uploader(request)
        state = uploads.state(upload_id)
        return UploadOut(upload_id=state.upload_id, offset=state.size, started_at=state.started_at)

    @api.delete("/uploads/{upload_id}", status_code=204)
    def cancel_upload(request: Request, upload_id: str) -> Response:
        uploader(request)
        uploads.cancel(upload_id)
        return Response(status_code=204)

    octets: dict[int | str, dict[str, object]] = {
        status: {"content": {"application/octet-stream": {}}, "description": what}
        for status, what in ((200, "the whole blob"), (206, "one requested range (Range: bytes=...)"))
    }

    @api.head("/blobs/{digest}", name="head_blob", response_class=Response, responses=octets)
    @api.get("/blobs/{digest}", name="get_blob", response_class=Response, responses=octets)
    def get_blob(request: Request, digest: str) -> Response:
        """The blob's bytes (Range requests supported), with ``Docker-Content-Digest``."""
        parsed = Digest.parse(digest)
        guard.require_read(actor_of(request), holders(str(parsed)), asked=f"read blob {parsed}", subject=str(parsed))
        headers = {
            "Docker-Content-Digest": str(parsed),
            "ETag": f'"{parsed}"',
            "Cache-Control": "max-age=31536000, immutable",
        }
        return blobs.respond(request, parsed, headers)

    return api
