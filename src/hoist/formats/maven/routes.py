"""The Maven repository at ``/maven/<registry>/``: PUT, GET and HEAD in Maven's repository layout.

A GAV is one Hoist version (``maven/<groupId>:<artifactId>`` @ the version directory); each PUT of a
file adds it to the version's files (``PackageService.add_files``), so a deploy's jar, pom, sources
and ``.asc`` signatures accumulate and are sealed together when promoted. What the server makes
itself, and never stores from a client: checksum files (from the checksums ingest recorded; an
uploaded one is compared with the stored file) and ``maven-metadata.xml`` (from what the registry
holds; an uploaded one is checked and dropped).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from hoist.domain.errors import InvalidDigest, PackageNotFound
from hoist.domain.models import FileEntry
from hoist.domain.names import clip
from hoist.domain.packages import version_of
from hoist.domain.ports import ListedVersion
from hoist.formats.common.bodies import read_bounded
from hoist.formats.common.checksums import MAX_CHECKSUM_FILE_BYTES, parse_checksum_file, same_checksum
from hoist.formats.common.edge import MAVEN, refusals
from hoist.formats.common.files import bytes_response, download
from hoist.formats.common.ingest import receive_body
from hoist.formats.maven.layout import ArtifactPath, MavenPath, MetadataPath, newest_build, parse_path
from hoist.formats.maven.listing import artifact_metadata, snapshot_metadata
from hoist.formats.maven.metadata import MAX_METADATA_BYTES, check_uploaded
from hoist.http.blobs import BlobResponses
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.packages import FileNotFound, PackageService
from hoist.services.publishing import Outcome
from hoist.services.uploads import UploadService

log = logging.getLogger("hoist.maven")

TEXT = "text/plain; charset=utf-8"
XML = "application/xml"


class MavenRepository:
    def __init__(self, packages: PackageService, uploads: UploadService, blobs: BlobResponses) -> None:
        self.packages = packages
        self.uploads = uploads
        self.blobs = blobs

    async def handle(self, request: Request) -> Response:
        registry = request.path_params["registry"]
        path = parse_path(request.path_params["path"])
        if request.method == "PUT":
            return await self._put(request, registry, path)
        if isinstance(path, MetadataPath):
            return await self._metadata(request, registry, path)
        # a checksum reads the listing only
        listed = path.checksum is not None or _plain_snapshot(path)
        files = await self._files(request, registry, path) if listed else None
        name = _resolve(path, files) if files is not None else path.file.name
        if path.checksum is not None:
            entry = _entry(files or (), name, registry, path)
            value = entry.checksum(path.checksum)
            if value is None:
                raise FileNotFound(f"no {path.checksum} was recorded for {clip(name)!r}", name=clip(name))
            return bytes_response(request, value.encode(), TEXT)
        key, version, actor = path.coordinates.key, version_of(path.coordinates.key, path.version), actor_of(request)
        return await download(
            request,
            self.blobs,
            lambda downloading: self.packages.open_file(registry, key, version, name, actor, download=downloading).file,
        )

    # --- deploy ----------------------------------------------------------------------------------

    async def _put(self, request: Request, registry: str, path: MavenPath) -> Response:
        actor, pipeline = actor_of(request), pipeline_of(request)
        key = path.coordinates.key
        version = version_of(key, path.version) if path.version is not None else None
        subject = f"{key}@{version}" if version is not None else key
        # refused before the body is read: Maven sends it only after this answer (Expect: 100-continue)
        await run_in_threadpool(partial(self.packages.check_push, registry, key, actor, pipeline, subject=subject))
        if isinstance(path, MetadataPath):
            body = await read_bounded(request, MAX_METADATA_BYTES, "maven-metadata.xml")
            if path.checksum is not None:
                parse_checksum_file(path.checksum, body)
            else:
                check_uploaded(body, path.coordinates, path.version)
            return _created()  # checked, not kept: the server renders the metadata from what it holds
        if path.checksum is not None:
            body = await read_bounded(request, MAX_CHECKSUM_FILE_BYTES, f"a .{path.checksum} file")
            given = parse_checksum_file(path.checksum, body)
            entry = _entry(await self._files(request, registry, path), path.file.name, registry, path)
            stored = entry.checksum(path.checksum)
            if stored is not None and not same_checksum(stored, given):
                raise InvalidDigest(
                    f"the uploaded {path.checksum} of {path.file.name} is {given}, but the stored file's is "
                    f"{stored}: the file was damaged on the way, deploy it again",
                    checksum=given,
                )
            return _created()
        received = await receive_body(request, self.uploads)
        result = await run_in_threadpool(
            partial(
                self.packages.add_files,
                registry=registry,
                package=key,
                version=version_of(key, path.version),
                files=[received.entry(path.file.name)],
                actor=actor,
                pipeline=pipeline,
                replace=path.is_snapshot,
            )
        )
        return _created() if result.outcome is not Outcome.UNCHANGED else PlainTextResponse("", 200)

    # --- reading ---------------------------------------------------------------------------------

    async def _metadata(self, request: Request, registry: str, path: MetadataPath) -> Response:
        view = await run_in_threadpool(self.packages.view, registry, path.coordinates.key, actor_of(request))
        versions = view.versions if view is not None else ()
        if path.version is None:
            if not versions:
                raise PackageNotFound(f"{registry} holds no version of {path.coordinates.native_name}")
            body = artifact_metadata(path.coordinates, versions)
        else:
            body = snapshot_metadata(path.coordinates, _listed(versions, path.version, registry, path))
        if path.checksum is not None:
            return bytes_response(request, path.checksum.of(body).encode(), TEXT)
        return bytes_response(request, body, XML)

    async def _files(self, request: Request, registry: str, path: ArtifactPath) -> Sequence[FileEntry]:
        """The files of the path's version in ``registry`` (read right checked; no download audited)."""
        view = await run_in_threadpool(self.packages.view, registry, path.coordinates.key, actor_of(request))
        return _listed(view.versions if view is not None else (), path.version, registry, path).manifest.files()

    def routes(self) -> list[Route]:
        return [Route("/maven/{registry}/{path:path}", self.handle, methods=["GET", "HEAD", "PUT"])]


def _listed(versions: Sequence[ListedVersion], version: str, registry: str, path: MavenPath) -> ListedVersion:
    found = next((v for v in versions if v.artifact.version.canonical == version), None)
    if found is None:
        raise PackageNotFound(f"{registry} holds no version {clip(version)} of {path.coordinates.native_name}")
    return found


def _plain_snapshot(path: ArtifactPath) -> bool:
    return path.is_snapshot and path.file.stamp is None


def _resolve(path: ArtifactPath, files: Sequence[FileEntry]) -> str:
    """The stored name a path asks for: itself, or for ``x-1.4.0-SNAPSHOT.jar`` the newest build's file."""
    names = [f.name for f in files]
    if path.file.name in names or not _plain_snapshot(path):
        return path.file.name
    return newest_build(path.coordinates.artifact, path.version, path.file, names) or path.file.name


def _entry(files: Sequence[FileEntry], name: str, registry: str, path: ArtifactPath) -> FileEntry:
    found = next((f for f in files if f.name == name), None)
    if found is None:
        raise FileNotFound(
            f"{path.coordinates.key}@{path.version} in {registry} has no file {clip(name)!r}", name=clip(name)
        )
    return found


def _created() -> Response:
    return PlainTextResponse("", 201)


def maven_app(packages: PackageService, uploads: UploadService, blobs: BlobResponses) -> ASGIApp:
    async def no_route(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            return PlainTextResponse(
                f"{request.method} is not supported here: Maven repositories take GET, HEAD and PUT\n", 405
            )
        return PlainTextResponse("not a Maven repository path: use /maven/<registry>/<group path>/<artifact>/...\n", 404)

    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return PlainTextResponse("internal server error; the server log has the details\n", 500)

    app = Starlette(
        routes=MavenRepository(packages, uploads, blobs).routes(),
        exception_handlers={**refusals(MAVEN), 404: no_route, 405: no_route, Exception: internal},
    )
    app.router.redirect_slashes = False  # a path Maven never asks for is a 404, not a redirect to guess on
    return app
