"""The /pypi/<registry>/ endpoints: twine's upload, the simple index and file downloads.
Handlers translate; PackageService decides (rights, promotion-only registries, immutability, audit).

Files live at ``files/<project>/<version>/<file>`` beside ``simple/``, linked relatively from the
project page, so a file has the same path (and hash) in every registry that holds it."""

from __future__ import annotations

import functools

from packaging.version import Version
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from hoist.domain.digests import Digest
from hoist.domain.errors import NotFound
from hoist.domain.models import MarkKind
from hoist.domain.packages import PackageFormat
from hoist.domain.versions import Channel
from hoist.formats.common.edge import PYPI, refusals
from hoist.formats.common.files import download
from hoist.formats.pypi import intake, simple
from hoist.formats.pypi.distributions import parse_filename, parse_metadata
from hoist.formats.pypi.names import normalise, project_of, storage_key
from hoist.http.blobs import BlobResponses
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.packages import PackageService, PackageView
from hoist.services.uploads import UploadService

VARY = {"Vary": "Accept"}
CACHED_PAGES = 1024
NOT_ACCEPTABLE = f"the simple index is served as {simple.JSON}, {simple.HTML} or text/html\n"


class PypiEndpoints:
    def __init__(self, packages: PackageService, uploads: UploadService, blobs: BlobResponses) -> None:
        self.packages = packages
        self.uploads = uploads
        self.blobs = blobs
        self._requires_python = functools.lru_cache(maxsize=4096)(self._read_requires_python)
        self._pages: dict[tuple[str, str, int, str], str] = {}  # rendered project pages, by the view's generation

    async def upload(self, request: Request) -> Response:
        registry = request.path_params["registry"]
        received = await intake.receive(request, self.uploads)
        version = received.version
        await run_in_threadpool(
            self.packages.add_files,
            registry=registry,
            package=storage_key(received.dist.project),
            version=version,
            files=[received.file, received.metadata_file],
            actor=actor_of(request),
            pipeline=pipeline_of(request),
            replace=version.channel is Channel.SNAPSHOT,  # a .devN file may be rebuilt while it sits in dev
        )
        return PlainTextResponse("OK\n")

    async def index(self, request: Request) -> Response:
        if (chosen := simple.negotiate(request.headers.get("accept"))) is None:
            return PlainTextResponse(NOT_ACCEPTABLE, 406, headers=VARY)
        rendering, content_type = chosen
        registry = request.path_params["registry"]
        keys = await run_in_threadpool(self.packages.packages, registry, PackageFormat.PYPI, actor_of(request))
        names = [name for key in keys if (name := project_of(key))]
        return Response(simple.project_list(names, rendering), media_type=content_type, headers=VARY)

    async def to_project(self, request: Request) -> Response:
        """PEP 503: one URL per project, normalised, with its trailing slash."""
        registry, name = request.path_params["registry"], request.path_params.get("project")
        where = f"{normalise(name)}/" if name else ""
        return RedirectResponse(f"/pypi/{registry}/simple/{where}", 301)

    async def unknown(self, request: Request) -> Response:
        raise NotFound(f"no PyPI endpoint at {request.url.path[:200]}: the index is at /pypi/<registry>/simple/")

    async def project(self, request: Request) -> Response:
        registry, name = request.path_params["registry"], request.path_params["project"]
        normal = normalise(name)
        if normal != name:
            return await self.to_project(request)
        if (chosen := simple.negotiate(request.headers.get("accept"))) is None:
            return PlainTextResponse(NOT_ACCEPTABLE, 406, headers=VARY)
        rendering, content_type = chosen
        view = await run_in_threadpool(self.packages.view, registry, storage_key(normal), actor_of(request))
        if view is None or not view.versions:
            raise NotFound(f"no project {normal!r} in {registry}")
        # the view is read (and the right to read it checked) every time; the page only when it changed
        page = (registry, normal, view.generation, rendering)
        body = self._pages.get(page)
        if body is None:
            files, versions = await run_in_threadpool(self._index_files, normal, view)
            body = simple.project_page(normal, versions, files, rendering)
            if len(self._pages) >= CACHED_PAGES:
                self._pages.pop(next(iter(self._pages)), None)
            self._pages[page] = body
        return Response(body, media_type=content_type, headers=VARY)

    def _index_files(self, project: str, view: PackageView) -> tuple[list[simple.IndexFile], list[str]]:
        files: list[simple.IndexFile] = []
        versions: set[Version] = set()
        for listed in view.versions:
            placed = listed.manifest.files()
            by_name = {f.name: f for f in placed}
            yanked = listed.marks.get(MarkKind.YANKED)
            for entry in placed:
                if entry.name.endswith(".metadata"):
                    continue
                dist = parse_filename(entry.name)
                versions.add(dist.version)
                meta = by_name.get(dist.metadata_name)
                files.append(
                    simple.IndexFile(
                        filename=entry.name,
                        url=f"../../files/{project}/{listed.artifact.version}/{entry.name}",
                        sha256=entry.digest.hex,
                        size=entry.size,
                        upload_time=listed.artifact.pushed_at,
                        requires_python=self._requires_python(meta.digest, meta.name) if meta else None,
                        core_metadata_sha256=meta.digest.hex if meta and dist.kind == "bdist_wheel" else None,
                        yanked=yanked,
                    )
                )
        return files, [str(v) for v in sorted(versions)]

    def _read_requires_python(self, digest: Digest, name: str) -> str | None:
        # immutable by digest: cached for the life of the process
        with self.uploads.read(digest) as f:
            return parse_metadata(f.read(), name).requires_python

    async def download(self, request: Request) -> Response:
        p = request.path_params
        key, actor = storage_key(p["project"]), actor_of(request)
        return await download(  # pip and uv follow a redirect
            request,
            self.blobs,
            lambda downloading: (
                self.packages.open_file(p["registry"], key, p["version"], p["filename"], actor, download=downloading).file
            ),
        )


def routes(packages: PackageService, uploads: UploadService, blobs: BlobResponses) -> list[BaseRoute]:
    """The room, mounted at /pypi: refusals in the PyPI row's shape (text, Basic challenge)."""
    e = PypiEndpoints(packages, uploads, blobs)
    per_registry = Mount(
        "/{registry}",
        routes=[
            Route("/", e.upload, methods=["POST"]),
            Route("/legacy/", e.upload, methods=["POST"]),
            Route("/simple/", e.index, methods=["GET"]),
            Route("/simple/{project}/", e.project, methods=["GET"]),
            Route("/simple", e.to_project, methods=["GET"]),
            Route("/simple/{project}", e.to_project, methods=["GET"]),
            Route("/files/{project}/{version}/{filename}", e.download, methods=["GET"]),
            Route("/{path:path}", e.unknown),
        ],
    )
    return [Mount("/pypi", app=Starlette(routes=[per_registry], exception_handlers=refusals(PYPI)))]
