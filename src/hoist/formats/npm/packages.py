"""The npm endpoints of a package: packuments, tarballs, publish, deprecate, unpublish, dist-tags.

A registry's npm view is its package view (``PackageService.view``): each version placed there
whose files hold the npm tarball and the ``package.json`` read out of it at publish, one build per
version (``packuments.one_per_version``)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput, InvalidTag, NotFound
from hoist.domain.jsonlimits import API_BODY_BYTES, PACKAGE_FILE_BYTES, read_json
from hoist.domain.models import Actor, ArtifactRef, FileEntry, MarkKind
from hoist.domain.names import clip
from hoist.domain.ports import ListedVersion
from hoist.domain.tags import Tag, TagKind
from hoist.formats.common.files import download
from hoist.formats.common.ingest import store_bytes
from hoist.formats.npm import documents, packuments, tarballs
from hoist.formats.npm.names import npm_version, shown, storage_key, tarball_name, version_of_tarball
from hoist.formats.npm.packuments import Release
from hoist.formats.npm.paths import Kind, Target
from hoist.formats.npm.routes import Handlers
from hoist.http.blobs import BlobResponses
from hoist.http.bodies import read_body
from hoist.http.identity import actor_of, pipeline_of
from hoist.services.deletion import DeletionService
from hoist.services.packages import PackageService, PackageView
from hoist.services.uploads import UploadService

PACKAGE_JSON = "package.json"
_CACHED_MANIFESTS = 4096  # package.json of a version never changes: kept by digest
_CACHED_PAGES = 1024  # rendered packuments, by the view's generation
K = TypeVar("K")
V = TypeVar("V")
_SPOOLED_IN_MEMORY = 8 * 1024 * 1024  # a larger tarball is staged on disk
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Held:
    """What a registry holds of a package, as npm is shown it."""

    name: str
    view: PackageView
    releases: list[Release]  # one per version, in version order
    tags: dict[str, str]  # tags set in the registry, by the version they name

    def release(self, version: str) -> Release:
        found = next((r for r in self.releases if r.shown == version), None)
        if found is None:
            raise NotFound(f"{self.name}@{clip(version)} is not in {self.view.registry}")
        return found

    def builds(self, version: str) -> list[ListedVersion]:
        """Every stored build of ``version`` placed here, the sealed ones first (see ``_delete``)."""
        found = [v for v in self.view.versions if shown(v.artifact.version) == version]
        return sorted(found, key=lambda v: not v.placement.sealed)


@dataclass
class NpmPackages:
    packages: PackageService
    deletion: DeletionService
    uploads: UploadService
    blobs: BlobResponses
    _manifests: dict[Digest, Mapping[str, Any]] = field(default_factory=dict)
    _pages: dict[tuple[str, str, int, bool, str], bytes] = field(default_factory=dict)

    def handlers(self) -> Handlers:
        return {
            (Kind.PACKAGE, "GET"): self.packument,
            (Kind.PACKAGE, "PUT"): self.put_package,
            (Kind.PACKAGE, "DELETE"): self.delete_package,
            (Kind.VERSION, "GET"): self.version,
            (Kind.TARBALL, "GET"): self.tarball,
            (Kind.TARBALL, "HEAD"): self.tarball,
            (Kind.TARBALL, "DELETE"): self.delete_tarball,
            (Kind.DIST_TAGS, "GET"): self.dist_tags,
            (Kind.DIST_TAGS, "PUT"): self.set_tag,
            (Kind.DIST_TAGS, "DELETE"): self.remove_tag,
        }

    @property
    def _tarball_limit(self) -> int:
        """npm's cap, or the server's upload limit where that is lower."""
        return min(tarballs.MAX_TARBALL_BYTES, self.uploads.max_upload_bytes)

    # --- reading ---------------------------------------------------------------------------------

    async def packument(self, request: Request, registry: str, target: Target) -> Response:
        view = await self._view(request, registry, target.name)
        short = packuments.ABBREVIATED in request.headers.get("accept", "")
        media_type = packuments.ABBREVIATED if short else "application/json"
        # the view is read (and the right to read it checked) every time; the page only when it changed
        page = (registry, view.package, view.generation, short, str(request.base_url))
        body = self._pages.get(page)
        if body is None:
            held = await run_in_threadpool(self._hold, target.name, view)
            url = _tarball_urls(request, registry, target.name)
            render = packuments.abbreviated if short else packuments.full
            body = json.dumps(render(target.name, held.releases, held.tags, url), separators=(",", ":")).encode()
            _remember(self._pages, page, body, _CACHED_PAGES)
        return Response(body, media_type=media_type)

    async def version(self, request: Request, registry: str, target: Target) -> Response:
        held = await self._held(request, registry, target.name)
        wanted = packuments.dist_tags(held.releases, held.tags).get(target.tag, target.tag)
        release = held.release(wanted)
        url = _tarball_urls(request, registry, target.name)(release.shown)
        return JSONResponse(packuments.version_document(target.name, release, url))

    async def tarball(self, request: Request, registry: str, target: Target) -> Response:
        version = version_of_tarball(target.name, target.file)
        held = await self._held(request, registry, target.name)
        release = held.release(version)
        package, actor = held.view.package, actor_of(request)
        return await download(
            request,
            self.blobs,
            lambda downloading: (
                self.packages.open_file(
                    registry, package, release.version, release.tarball.name, actor, download=downloading
                ).file
            ),
        )

    async def dist_tags(self, request: Request, registry: str, target: Target) -> Response:
        held = await self._held(request, registry, target.name)
        if target.tag:
            tags = packuments.dist_tags(held.releases, held.tags)
            if target.tag not in tags:
                raise NotFound(f"{target.name} has no dist-tag {clip(target.tag)!r} in {registry}")
            return JSONResponse(tags[target.tag])
        return JSONResponse(packuments.dist_tags(held.releases, held.tags))

    # --- changing --------------------------------------------------------------------------------

    async def put_package(self, request: Request, registry: str, target: Target) -> Response:
        # who may write nothing here is refused before a byte of the (tarball-sized) body is read
        await run_in_threadpool(self.packages.check_write, registry, storage_key(target.name), actor_of(request))
        body = await read_body(request, documents.document_limit(self._tarball_limit))
        doc = documents.read_document(body, target.name)
        if documents.is_publication(doc):
            return await self._publish(request, registry, documents.publication(doc, target.name))
        return await self._change(request, registry, target, documents.changes(doc))

    async def _publish(self, request: Request, registry: str, pub: documents.Publication) -> Response:
        """Store the tarball, read its package.json, check they agree with what was published, and
        add both as the version's files (PackageService: rights, promotion-only registries,
        ceilings, immutability, audit)."""
        actor, pipeline = actor_of(request), pipeline_of(request)
        key = storage_key(pub.name)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOLED_IN_MEMORY) as staged:
            # checked before a byte is stored, so that a refused tarball leaves nothing behind
            raw = await run_in_threadpool(_stage, pub, staged, self._tarball_limit)
            received = await run_in_threadpool(store_bytes, iter(partial(staged.read, _CHUNK), b""), self.uploads)
        tarball = received.entry(tarball_name(pub.name, pub.version), "application/gzip")
        documents.check_digests(pub, tarball)
        package_json = (await run_in_threadpool(store_bytes, raw, self.uploads)).entry(PACKAGE_JSON, "application/json")
        await run_in_threadpool(
            lambda: self.packages.add_files(
                registry=registry,
                package=key,
                version=pub.version,
                files=[tarball, package_json],
                actor=actor,
                pipeline=pipeline,
            )
        )
        # ``latest`` is not stored: it follows the highest release the registry holds (packuments)
        for tag in pub.tags:
            if tag != packuments.LATEST:
                await run_in_threadpool(self.packages.set_tag, registry, key, _movable(tag), pub.version, actor)
        return JSONResponse({"ok": f"published {pub.name}@{pub.version} into {registry}"}, 201)

    async def _change(self, request: Request, registry: str, target: Target, changes: documents.Changes) -> Response:
        """The packument sent back by ``npm deprecate`` (messages) or ``npm unpublish <name>@<v>``
        (to its ``-rev`` URL, without the version). Tags are not taken from it: they change through
        the dist-tag endpoints, and ``latest`` follows what the registry holds."""
        actor = actor_of(request)
        held = await self._held(request, registry, target.name)
        for release in held.releases:
            if release.shown not in changes.versions:
                continue
            wanted = changes.deprecated.get(release.shown)
            if wanted != release.deprecated:
                await run_in_threadpool(
                    self.packages.mark, registry, held.view.package, release.version, MarkKind.DEPRECATED, wanted, actor
                )
        if target.rev is not None:
            for release in held.releases:
                if release.shown not in changes.versions:
                    await self._delete(held, release.shown, registry, actor)
        return JSONResponse({"ok": f"{target.name} updated in {registry}"})

    async def delete_package(self, request: Request, registry: str, target: Target) -> Response:
        """``npm unpublish <name>``: every version the registry holds, or none if one is sealed."""
        held = await self._held(request, registry, target.name)
        sealed = [r.shown for r in held.releases if r.sealed]
        for version in sealed + [r.shown for r in held.releases if not r.sealed]:
            await self._delete(held, version, registry, actor_of(request))
        return JSONResponse({"ok": f"{target.name} unpublished from {registry}"})

    async def delete_tarball(self, request: Request, registry: str, target: Target) -> Response:
        """The last step of ``npm unpublish <name>@<v>``: the version is usually gone already."""
        version = version_of_tarball(target.name, target.file)
        held = await self._held(request, registry, target.name)
        if any(r.shown == version for r in held.releases):
            await self._delete(held, version, registry, actor_of(request))
        return JSONResponse({"ok": f"{target.file} unpublished from {registry}"})

    async def _delete(self, held: Held, version: str, registry: str, actor: Actor) -> None:
        # Sealed builds go first: DeletionService refuses (and audits) a sealed version before
        # anything was deleted, so an unpublish that cannot finish changes nothing.
        for build in held.builds(version):
            ref = ArtifactRef(held.view.package, version=build.artifact.version)
            await run_in_threadpool(
                partial(self.deletion.delete, ref, actor=actor, registry=registry, reason="npm unpublish")
            )

    async def set_tag(self, request: Request, registry: str, target: Target) -> Response:
        if not target.tag:
            raise NotFound("PUT a dist-tag at /-/package/<name>/dist-tags/<tag>")
        body = read_json(await read_body(request, API_BODY_BYTES), limit=API_BODY_BYTES, where="the dist-tag")
        if not isinstance(body, str):
            raise InvalidInput('a dist-tag is set to a JSON string: the version, e.g. "1.2.0"')
        held = await self._held(request, registry, target.name)
        release = held.release(shown(npm_version(body)))
        tag = _movable(target.tag)
        await run_in_threadpool(self.packages.set_tag, registry, held.view.package, tag, release.version, actor_of(request))
        return JSONResponse({"ok": f"{target.name}@{release.shown} tagged {tag} in {registry}"}, 201)

    async def remove_tag(self, request: Request, registry: str, target: Target) -> Response:
        if not target.tag:
            raise NotFound("DELETE a dist-tag at /-/package/<name>/dist-tags/<tag>")
        key = storage_key(target.name)
        removed = await run_in_threadpool(self.packages.remove_tag, registry, key, target.tag, actor_of(request))
        if not removed:
            raise NotFound(f"{target.name} has no dist-tag {clip(target.tag)!r} set in {registry}")
        return JSONResponse({"ok": f"dist-tag {target.tag} of {target.name} removed from {registry}"})

    # --- the view --------------------------------------------------------------------------------

    async def _view(self, request: Request, registry: str, name: str) -> PackageView:
        view = await run_in_threadpool(self.packages.view, registry, storage_key(name), actor_of(request))
        if view is None:
            raise NotFound(f"{name} is not in {registry}")
        return view

    async def _held(self, request: Request, registry: str, name: str) -> Held:
        view = await self._view(request, registry, name)
        return await run_in_threadpool(self._hold, name, view)

    def _hold(self, name: str, view: PackageView) -> Held:
        chosen = packuments.one_per_version(self._releases(name, view.versions))
        tags = {tag: shown(v.artifact.version) for tag, d in view.tags.items() if (v := view.by_digest(d)) is not None}
        return Held(name, view, chosen, tags)

    def _releases(self, name: str, versions: Sequence[ListedVersion]) -> list[Release]:
        releases = []
        for listed in versions:
            files = {f.name: f for f in listed.manifest.files()}
            tarball = files.get(tarball_name(name, shown(listed.artifact.version)))
            package_json = files.get(PACKAGE_JSON)
            if tarball is None or package_json is None:
                continue  # not published with npm: nothing npm could install
            releases.append(
                Release(
                    listed.artifact.version,
                    self._manifest(package_json),
                    tarball,
                    listed.artifact.pushed_at,
                    sealed=listed.placement.sealed,
                    deprecated=listed.marks.get(MarkKind.DEPRECATED),
                )
            )
        return releases

    def _manifest(self, file: FileEntry) -> Mapping[str, Any]:
        cached = self._manifests.get(file.digest)
        if cached is None:
            with self.uploads.read(file.digest) as f:
                doc = read_json(f.read(PACKAGE_FILE_BYTES + 1), limit=PACKAGE_FILE_BYTES, where=PACKAGE_JSON)
            cached = doc if isinstance(doc, dict) else {}
            _remember(self._manifests, file.digest, cached, _CACHED_MANIFESTS)
        return cached


def _remember(cache: dict[K, V], key: K, value: V, limit: int) -> None:
    """Keep ``value``, dropping the oldest entry once ``limit`` are kept (entries never go stale:
    manifests are keyed by digest, pages by the view's generation)."""
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _stage(pub: documents.Publication, staged: IO[bytes], limit: int) -> bytes:
    """The tarball decoded into ``staged`` and its package.json checked; the package.json's bytes."""
    for chunk in tarballs.decoded(pub.data, limit=limit):
        staged.write(chunk)
    staged.seek(0)
    raw, manifest = tarballs.package_json(staged)
    documents.check_package(pub, manifest)
    staged.seek(0)
    return raw


def _movable(tag: str) -> str:
    if Tag.parse(tag).kind is not TagKind.MOVABLE:
        raise InvalidTag(f"dist-tag {clip(tag)!r} looks like a version: npm resolves it as one, so name tags otherwise")
    return tag


def _tarball_urls(request: Request, registry: str, name: str) -> Any:
    base = str(request.base_url).rstrip("/")

    def url(version: str) -> str:
        return f"{base}/npm/{registry}/{name}/-/{tarball_name(name, version)}"

    return url
