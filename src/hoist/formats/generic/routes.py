"""Plain HTTP at /generic/<registry>/<package>/<version>/<file>: ``curl -T`` uploads one file of a
version, ``curl -O`` downloads it, ``GET …/<version>/`` lists the version's files. Handlers
translate between HTTP and ``PackageService``; errors are text bodies curl prints."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hoist.domain.errors import NotFound
from hoist.formats.common.checksum_headers import checksum_headers, declared_checksums
from hoist.formats.common.edge import GENERIC, refusals
from hoist.formats.common.files import download
from hoist.formats.common.ingest import receive_body
from hoist.formats.generic.wire import PREFIX, Address, listing_json, listing_text, parse_address, wants_text
from hoist.http.blobs import BlobResponses
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.packages import PackageService
from hoist.services.publishing import Outcome
from hoist.services.uploads import UploadService

OCTETS = "application/octet-stream"
# a client's Content-Type becomes the file's media type when it is one (type/subtype, no parameters)
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]{0,63}/[A-Za-z0-9][\w.+-]{0,126}")


class GenericEndpoints:
    def __init__(self, packages: PackageService, uploads: UploadService, blobs: BlobResponses) -> None:
        self.packages = packages
        self.uploads = uploads
        self.blobs = blobs

    async def put(self, request: Request) -> Response:
        address = _address(request)
        if address.file is None:
            raise NotFound(f"PUT one file at a time: {address.version_url}<file>")
        declared = declared_checksums(request.headers)  # a malformed header is refused before the body is read
        actor, pipeline = actor_of(request), pipeline_of(request)
        registry, package, version = address.registry, address.package, address.version
        await run_in_threadpool(
            lambda: self.packages.check_publish(
                registry=registry, package=package, version=version, actor=actor, pipeline=pipeline
            )
        )
        received = await receive_body(request, self.uploads, checksums=declared)
        entry = received.entry(address.file, _media_type(request))
        result = await run_in_threadpool(
            lambda: self.packages.add_files(
                registry=registry, package=package, version=version, files=[entry], actor=actor, pipeline=pipeline
            )
        )
        created = result.outcome is not Outcome.UNCHANGED
        message = (
            f"{'stored' if created else 'unchanged'}: {entry.name} ({entry.digest}, {entry.size} bytes) "
            f"in {address.package}@{result.artifact.version} in {address.registry}\n"
        )
        headers = {"Location": address.version_url + entry.name, **checksum_headers(received.checksums)}
        return PlainTextResponse(message, 201 if created else 200, headers=headers)

    async def get(self, request: Request) -> Response:
        address = _address(request)
        if address.file is None:
            return await self._listing(request, address)
        actor, name = actor_of(request), address.file
        # served from this port even where a blob server runs: curl -O follows no redirect
        return await download(
            request,
            self.blobs,
            lambda downloading: (
                self.packages.open_file(
                    address.registry, address.package, address.version, name, actor, download=downloading
                ).file
            ),
            own_media_type=True,
            redirect=False,
        )

    async def _listing(self, request: Request, address: Address) -> Response:
        view = await run_in_threadpool(self.packages.view, address.registry, address.package, actor_of(request))
        listed = next((v for v in view.versions if str(v.artifact.version) == address.version), None) if view else None
        if listed is None:
            raise NotFound(f"{address.package}@{address.version} is not in {address.registry}")
        files = list(listed.manifest.files())
        if wants_text(request.headers.get("accept")):
            return Response(listing_text(files), media_type="text/plain")
        body = listing_json(address, str(listed.artifact.version), files, sealed=listed.placement.sealed)
        return Response(body, media_type="application/json")


def _address(request: Request) -> Address:
    return parse_address(f"{PREFIX}/{request.path_params['path']}")


def _media_type(request: Request) -> str:
    value = request.headers.get("content-type", "").strip()
    return value if _MEDIA_TYPE.fullmatch(value) and not value.startswith("application/x-www-form") else OCTETS


def generic_app(packages: PackageService, uploads: UploadService, blobs: BlobResponses) -> Starlette:
    endpoints = GenericEndpoints(packages, uploads, blobs)
    routes = [
        Route(PREFIX + "/{path:path}", endpoints.put, methods=["PUT"]),
        Route(PREFIX + "/{path:path}", endpoints.get, methods=["GET", "HEAD"]),
    ]
    return Starlette(routes=routes, exception_handlers=refusals(GENERIC))
