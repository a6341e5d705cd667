"""The /v2 endpoints (distribution-spec v1.1). Handlers translate between HTTP and the services."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt, HoistError, InvalidInput, InvalidName, InvalidTag, TooLarge, UploadOutOfOrder
from hoist.domain.manifests import MAX_MANIFEST_BYTES, OCI_INDEX, Manifest
from hoist.domain.names import clip
from hoist.domain.tags import Tag, TagKind
from hoist.formats.oci import errors
from hoist.formats.oci.access import OciAccess, grantable, may
from hoist.formats.oci.errors import API_VERSION
from hoist.formats.oci.hot import OciHotPath, paginate
from hoist.formats.oci.lookups import HotLookups, tag_list
from hoist.http.blobs import BlobResponses
from hoist.http.identity import actor_of, pipeline_of
from hoist.http.streaming import declared_length, receive_upload
from hoist.http.tokens import TokenSigner
from hoist.services.repositories import Reference, RepositoryService
from hoist.services.uploads import UploadService, UploadSession

log = logging.getLogger("hoist.oci")


def repository(name: str) -> tuple[str, str]:
    """``dev/shop/api`` → (``dev``, ``shop/api``): the first path component is the registry."""
    registry, sep, package = name.partition("/")
    if not sep or not package:
        raise InvalidName(
            f"repository {clip(name)!r} must be <registry>/<package>, e.g. dev/shop/api (the package shop/api in the "
            "registry dev)"
        )
    return registry, package


def _headers(**extra: str) -> dict[str, str]:
    return {**API_VERSION, **extra}


def _paginate(items: list[str], request: Request, base: str) -> tuple[list[str], dict[str, str]]:
    n = request.query_params.get("n")
    if n is not None and not n.isdigit():
        raise InvalidInput("n must be a non-negative integer")
    page, link = paginate(items, int(n) if n is not None else None, request.query_params.get("last"), base)
    return page, _headers(Link=link) if link else _headers()


def _upload_headers(name: str, session_id: str, size: int) -> dict[str, str]:
    return _headers(
        Location=f"/v2/{name}/blobs/uploads/{session_id}",
        Range=f"0-{max(size - 1, 0)}",
        **{"Docker-Upload-UUID": session_id},
    )


class Endpoints:
    def __init__(
        self,
        repos: RepositoryService,
        uploads: UploadService,
        signer: TokenSigner,
        access: OciAccess,
        blobs: BlobResponses,
    ) -> None:
        self.blobs = blobs
        self.repos = repos
        self.uploads = uploads
        self.signer = signer
        self.access = access

    def _authorize(self, request: Request, name: str, action: str) -> None:
        self.access.authorize(actor_of(request), name, action)

    def _reference(self, registry: str, package: str, text: str, *, pull: bool = False) -> Reference:
        """A manifest reference: a digest, or a tag (a version ``1.4.0_58``, cosign's
        ``sha256-<hex>.sig``, a movable name), once the repository's name is known good."""
        self.repos.check(registry, package)
        if ":" in text:
            return Digest.parse(text)
        try:
            return Tag.parse(text)
        except InvalidTag:
            if not pull:
                raise
            # no manifest can be tagged so: a pull finds nothing (404), as the spec's pulls expect
            return Tag(text, TagKind.MOVABLE)

    async def token(self, request: Request) -> Response:
        """The token endpoint of distribution's token authentication: Basic credentials (or none:
        anonymous) in, a short-lived bearer token for the requested scopes the actor holds out."""
        actor = actor_of(request)
        granted = grantable(actor, request.query_params.getlist("scope"))
        token, issued = self.signer.issue(actor, granted)
        issued_at = datetime.fromtimestamp(issued, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return JSONResponse(
            {"token": token, "access_token": token, "expires_in": self.signer.ttl, "issued_at": issued_at},
            headers=_headers(),
        )

    async def base(self, _request: Request) -> Response:
        return JSONResponse({}, headers=_headers())

    async def catalog(self, request: Request) -> Response:
        actor = actor_of(request)
        held = await run_in_threadpool(self.repos.catalog)
        names = [f"{registry}/{package}" for registry, package in held if may(actor, registry, "pull")]
        page, headers = _paginate(names, request, "/v2/_catalog")
        return JSONResponse({"repositories": page}, headers=headers)

    async def tags_list(self, request: Request) -> Response:
        name = request.path_params["name"]
        self._authorize(request, name, "pull")
        names = await run_in_threadpool(self.repos.names, *repository(name))
        tags = tag_list((str(v) for v in names.versions), names.tags)
        page, headers = _paginate(tags, request, f"/v2/{name}/tags/list")
        return JSONResponse({"name": name, "tags": page}, headers=headers)

    async def referrers(self, request: Request) -> Response:
        name = request.path_params["name"]
        self._authorize(request, name, "pull")
        subject = Digest.parse(request.path_params["digest"])
        artifact_type = request.query_params.get("artifactType")
        found = await run_in_threadpool(self.repos.referrers, *repository(name), subject)
        headers = _headers()
        if artifact_type is not None:
            headers["OCI-Filters-Applied"] = "artifactType"
        body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors(found, artifact_type)}
        return JSONResponse(body, headers=headers, media_type=OCI_INDEX)

    async def manifest(self, request: Request) -> Response:
        name, reference = request.path_params["name"], request.path_params["reference"]
        registry, package = repository(name)
        self._authorize(request, name, _action(request.method))
        if request.method in {"GET", "HEAD"}:
            found = await run_in_threadpool(
                lambda: self.repos.manifest(registry, package, self._reference(registry, package, reference, pull=True))
            )
            headers = _headers(**{"Docker-Content-Digest": str(found.digest), "ETag": f'"{found.digest}"'})
            if request.method == "HEAD":
                headers["Content-Length"] = str(len(found.raw))
                return Response(status_code=200, headers=headers, media_type=found.media_type)
            return Response(found.raw, headers=headers, media_type=found.media_type)
        actor, pipeline = actor_of(request), pipeline_of(request)
        if request.method == "DELETE":
            target = self._reference(registry, package, reference)
            await run_in_threadpool(self.repos.delete_manifest, registry, package, target, actor=actor, pipeline=pipeline)
            return Response(status_code=202, headers=_headers())
        raw = await _read_manifest(request)
        named = self._reference(registry, package, reference)
        extra = [Tag.parse(t) for t in request.query_params.getlist("tag")]
        expected, tags = (named, extra) if isinstance(named, Digest) else (None, [named, *extra])
        pushed = await run_in_threadpool(
            lambda: self.repos.put_manifest(
                registry,
                package,
                raw,
                request.headers.get("content-type"),
                expected=expected,
                tags=tags,
                actor=actor,
                pipeline=pipeline,
            )
        )
        headers = _headers(
            **{"Location": f"/v2/{name}/manifests/{pushed.digest}", "Docker-Content-Digest": str(pushed.digest)}
        )
        if pushed.subject is not None:
            headers["OCI-Subject"] = str(pushed.subject)
        response = Response(status_code=201, headers=headers)
        for tag in pushed.tags:
            response.headers.append("OCI-Tag", tag)
        return response

    async def blob(self, request: Request) -> Response:
        name = request.path_params["name"]
        registry, package = repository(name)
        self._authorize(request, name, _action(request.method))
        digest = Digest.parse(request.path_params["digest"])
        if request.method == "DELETE":
            await run_in_threadpool(
                lambda: self.repos.unlink_blob(
                    registry, package, digest, actor=actor_of(request), pipeline=pipeline_of(request)
                )
            )
            return Response(status_code=202, headers=_headers())
        headers = _headers(**{"Docker-Content-Digest": str(digest), "ETag": f'"{digest}"'})

        def serve() -> Response:
            self.repos.require_blob(registry, package, digest)
            return self.blobs.respond(request, digest, headers)

        try:
            return await run_in_threadpool(serve)
        except BlobCorrupt:
            if request.method != "HEAD":
                raise
            # clients HEAD a blob before they upload it: "unknown" makes them push the good bytes again,
            # which repairs it (a 500 would fail their push, a 200 skip the repair)
            return Response(status_code=404, headers=_headers())

    async def start_upload(self, request: Request) -> Response:
        name = request.path_params["name"]
        registry, package = repository(name)
        self._authorize(request, name, "push")
        self.repos.check(registry, package)
        mount, source = request.query_params.get("mount"), request.query_params.get("from")
        digest = Digest.parse(mount) if mount is not None else None
        if digest is not None and await self._mount(request, registry, package, digest, source):
            return Response(
                status_code=201,
                headers=_headers(Location=f"/v2/{name}/blobs/{digest}", **{"Docker-Content-Digest": str(digest)}),
            )
        expected = request.query_params.get("digest")
        session = await receive_upload(request, self.uploads, None)
        if expected is not None:
            return await _commit(self.repos, session, name, registry, package, Digest.parse(expected))
        session.close()
        return Response(status_code=202, headers=_upload_headers(name, session.upload_id, session.size))

    async def _mount(self, request: Request, registry: str, package: str, digest: Digest, source: str | None) -> bool:
        """Whether the blob was mounted; a mount that cannot be done starts an upload instead (spec)."""
        actor = actor_of(request)
        if source is None:  # automatic content discovery: wherever the client may read it
            return await run_in_threadpool(self.repos.link_stored_blob, registry, package, digest, actor)
        if not may(actor, source.split("/", 1)[0], "pull"):
            return False
        held = repository(source)
        return await run_in_threadpool(lambda: self.repos.link_stored_blob(registry, package, digest, actor, source=held))

    async def upload(self, request: Request) -> Response:
        name, upload_id = request.path_params["name"], request.path_params["upload_id"]
        registry, package = repository(name)
        self._authorize(request, name, "push")
        if request.method == "GET":
            state = await run_in_threadpool(self.uploads.state, upload_id)
            return Response(status_code=204, headers=_upload_headers(name, upload_id, state.size))
        if request.method == "DELETE":
            await run_in_threadpool(self.uploads.cancel, upload_id)
            return Response(status_code=204, headers=_headers())
        session = await receive_upload(request, self.uploads, upload_id)
        if request.method == "PATCH":
            session.close()
            return Response(status_code=202, headers=_upload_headers(name, upload_id, session.size))
        digest = request.query_params.get("digest")
        if digest is None:
            session.close()
            raise InvalidInput("completing an upload needs ?digest=")
        return await _commit(self.repos, session, name, registry, package, Digest.parse(digest))

    def routes(self) -> list[Route]:
        return [
            Route("/v2/", self.base, methods=["GET"]),
            Route("/v2/token", self.token, methods=["GET"]),
            Route("/v2/_catalog", self.catalog, methods=["GET"]),
            Route("/v2/{name:path}/tags/list", self.tags_list, methods=["GET"]),
            Route("/v2/{name:path}/referrers/{digest}", self.referrers, methods=["GET"]),
            Route("/v2/{name:path}/manifests/{reference}", self.manifest, methods=["GET", "HEAD", "PUT", "DELETE"]),
            Route("/v2/{name:path}/blobs/uploads/", self.start_upload, methods=["POST"]),
            Route("/v2/{name:path}/blobs/uploads/{upload_id}", self.upload, methods=["GET", "PATCH", "PUT", "DELETE"]),
            Route("/v2/{name:path}/blobs/{digest}", self.blob, methods=["GET", "HEAD", "DELETE"]),
        ]


async def _read_manifest(request: Request) -> bytes:
    length = declared_length(request)
    if length is not None and length > MAX_MANIFEST_BYTES:
        raise TooLarge(f"manifests are limited to {MAX_MANIFEST_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_MANIFEST_BYTES:
            raise TooLarge(f"manifests are limited to {MAX_MANIFEST_BYTES} bytes")
    return bytes(body)


async def _commit(
    repos: RepositoryService, session: UploadSession, name: str, registry: str, package: str, digest: Digest
) -> Response:
    info = await run_in_threadpool(session.commit, digest)
    await run_in_threadpool(repos.link_blob, registry, package, info.digest)
    return Response(
        status_code=201,
        headers=_headers(Location=f"/v2/{name}/blobs/{info.digest}", **{"Docker-Content-Digest": str(info.digest)}),
    )


def descriptors(manifests: list[Manifest], artifact_type: str | None) -> list[dict[str, Any]]:
    """The referrers index's descriptors of ``manifests``, of ``artifact_type`` if given (the
    distribution spec's filter: an artifact's type, else its config's media type)."""
    out = []
    for m in manifests:
        kind = m.artifact_type or (m.config.media_type if m.config else None)
        if artifact_type is not None and kind != artifact_type:
            continue
        descriptor: dict[str, Any] = {"mediaType": m.media_type, "digest": str(m.digest), "size": len(m.raw)}
        if kind:
            descriptor["artifactType"] = kind
        if m.annotations:
            descriptor["annotations"] = m.annotations
        out.append(descriptor)
    return out


def _action(method: str) -> str:
    return "pull" if method in {"GET", "HEAD"} else "delete" if method == "DELETE" else "push"


def oci_app(
    repos: RepositoryService,
    uploads: UploadService,
    signer: TokenSigner,
    access: OciAccess,
    blobs: BlobResponses,
    lookups: HotLookups,
) -> ASGIApp:
    async def out_of_order(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HoistError)
        size = exc.details.get("offset")
        headers = {"Range": f"0-{max(int(size) - 1, 0)}"} if isinstance(size, int) else None
        return errors.from_domain(exc, headers)

    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return errors.oci_error("UNKNOWN", "internal server error; the server log has the details", 500)

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return errors.oci_error("UNSUPPORTED", "no such endpoint in the distribution spec", 404)

    full = Starlette(
        routes=Endpoints(repos, uploads, signer, access, blobs).routes(),
        exception_handlers={
            UploadOutOfOrder: out_of_order,
            HoistError: errors.handle,
            404: not_found,
            405: not_found,
            Exception: internal,
        },
    )
    return OciHotPath(full, lookups)
