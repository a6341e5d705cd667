"""The composition root: configuration → stores → services → ASGI app.

The only module that picks concrete stores and reads the process environment (through
``load_settings``); everything else receives what it needs as arguments.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hoist import __version__
from hoist.api import (
    access,
    artifacts,
    audit,
    deployments,
    docs,
    jobs,
    marks,
    probes,
    releases,
    retention,
    supply,
    system,
    uploads,
)
from hoist.config import S3Access, Settings, load_settings
from hoist.credentials.passwords import Argon2Passwords
from hoist.domain.errors import HoistError
from hoist.domain.jobs import DEFAULT_RETRY, JobWorker, Retry
from hoist.domain.ports import BlobStore
from hoist.formats.common.edge import NATIVE
from hoist.formats.generic.routes import generic_app
from hoist.formats.maven.routes import maven_app
from hoist.formats.npm.packages import NpmPackages
from hoist.formats.npm.routes import npm_app
from hoist.formats.npm.session import NpmSession
from hoist.formats.oci import errors as oci_errors
from hoist.formats.oci.access import OciAccess
from hoist.formats.oci.carry import carry as oci_carry
from hoist.formats.oci.lookups import HotLookups
from hoist.formats.oci.routes import oci_app
from hoist.formats.oci.signatures import CosignSignatures
from hoist.formats.pypi import routes as pypi
from hoist.http import logs
from hoist.http.blobs import BlobResponses
from hoist.http.blobserver import BlobServer, BlobUrls, Running, serve_in_thread
from hoist.http.edge import JSON_API, Edge, EdgeTable
from hoist.http.errors import error_body, handle_hoist_error
from hoist.http.identity import IdentityMiddleware, challenge
from hoist.http.observed import Observed
from hoist.http.tokens import TokenSigner
from hoist.metadata.sql.jobs import SqliteJobWorker
from hoist.metadata.sql.migrate import current_revision, head_revision, upgrade
from hoist.metadata.sql.procrastinate import ProcrastinateWorker, conninfo
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.operations import Readiness, count_connections, scrape_probes
from hoist.sbom.facade import CycloneDxSboms
from hoist.services.administration import Administration
from hoist.services.audit import AuditService
from hoist.services.authentication import Authentication
from hoist.services.base import Clock, utcnow
from hoist.services.blobs import Blobs
from hoist.services.board import BoardService
from hoist.services.catalog import CatalogService
from hoist.services.collection import GarbageCollector
from hoist.services.deletion import DeletionService
from hoist.services.deployments import DeploymentService
from hoist.services.drills import RollbackDrills
from hoist.services.evidence import EvidenceService
from hoist.services.fsck import Fsck
from hoist.services.guard import Guard
from hoist.services.inventory import InventoryService
from hoist.services.jobs import JobService
from hoist.services.maintenance import Maintenance
from hoist.services.packages import PackageService
from hoist.services.promotion import PromotionService
from hoist.services.publishing import PublishService
from hoist.services.repositories import RepositoryService
from hoist.services.retention import RetentionService
from hoist.services.serving import local_path
from hoist.services.statements import SignedStatements
from hoist.services.summaries import PromotionSummaries
from hoist.services.tokens import TokenService
from hoist.services.uploads import UploadService
from hoist.services.vulnerabilities import VulnerabilityService
from hoist.signing.keys import key_id, load_public
from hoist.signing.server import ServerSigner
from hoist.signing.verifier import KeyringVerifier
from hoist.storage.filesystem import FilesystemBlobStore, legacy_corrupt_marks
from hoist.vulns.facade import OsvMatcher
from hoist.web.edge import WEB
from hoist.web.pages import WebServices
from hoist.web.site import web_app

log = logging.getLogger("hoist")
API = "/api/v1"
# /v2 first: it is asked most. OCI clients probe the base endpoint to learn how to authenticate.
OCI_EDGE = Edge(
    "/v2", oci_errors.from_domain, challenge=challenge, anonymous_changes=True, probes=frozenset({"/v2", "/v2/"})
)
EDGES = EdgeTable((OCI_EDGE, JSON_API, *NATIVE, WEB), default=JSON_API)


@dataclass(frozen=True, slots=True)
class Services:
    metadata: SqlMetadataStore
    blobs: Blobs
    guard: Guard
    authentication: Authentication
    administration: Administration
    tokens: TokenService
    signer: ServerSigner
    inventory: InventoryService
    vulnerabilities: VulnerabilityService
    uploads: UploadService
    publisher: PublishService
    packages: PackageService
    repositories: RepositoryService
    catalog: CatalogService
    promotions: PromotionService
    evidence: EvidenceService
    deployments: DeploymentService
    audit: AuditService
    retention: RetentionService
    deletion: DeletionService
    gc: GarbageCollector
    drills: RollbackDrills
    fsck: Fsck
    maintenance: Maintenance
    jobs: JobService


def open_metadata(settings: Settings) -> SqlMetadataStore:
    return SqlMetadataStore.from_url(settings.database_url)


def open_blobs(settings: Settings) -> BlobStore:
    if settings.storage_url:
        from hoist.storage.s3 import S3BlobStore, s3_client  # boto3 loads only when S3 is used

        access = settings.s3 or S3Access()
        client = s3_client(
            endpoint=access.endpoint_url,
            region=access.region,
            access_key_id=access.access_key_id,
            secret_access_key=access.secret_access_key,
        )
        return S3BlobStore.from_url(settings.storage_url, client)
    return FilesystemBlobStore(settings.storage_dir, fsync=settings.fsync)


def migrate(settings: Settings) -> None:
    """Bring the metadata schema to the current revision (``hoist db upgrade``; ``hoist serve``)."""
    store = open_metadata(settings)
    try:
        upgrade(store.engine)
        _record_legacy_corrupt_marks(store, settings.storage_dir)
    finally:
        store.dispose()


def _record_legacy_corrupt_marks(metadata: SqlMetadataStore, storage_dir: Path) -> None:
    """A data folder from before migration 0009 kept its corrupt marks as files: into the database
    (so that those blobs stay unserved), then the files go."""
    marks = legacy_corrupt_marks(storage_dir)
    if not marks:
        return
    with metadata.session() as s:
        for digest, _ in marks:
            s.blobs.mark_corrupt(digest, now=utcnow())
    for _, marker in marks:
        marker.unlink(missing_ok=True)


def bootstrap_admin(settings: Settings, token: str | None) -> str | None:
    """On an empty database, the first administrator and its token (``token``, e.g. from
    HOIST_ADMIN_TOKEN, or a new one): returned to be shown once; None when principals exist."""
    metadata = open_metadata(settings)
    try:
        return Authentication(metadata, settings.access, Argon2Passwords()).bootstrap(token)
    finally:
        metadata.dispose()


def open_worker(metadata: SqlMetadataStore, clock: Clock, retry: Retry = DEFAULT_RETRY) -> JobWorker:
    """The job queue's worker: procrastinate on PostgreSQL, the embedded queue on SQLite."""
    if metadata.dialect == "postgresql":
        return ProcrastinateWorker(metadata.engine, conninfo(metadata.engine), retry)
    return SqliteJobWorker(metadata.engine, clock, retry)


def build_services(
    settings: Settings, metadata: SqlMetadataStore, store: BlobStore, clock: Clock = utcnow, retry: Retry = DEFAULT_RETRY
) -> Services:
    policy = settings.policy
    blobs = Blobs(store, metadata, clock)
    guard = Guard(metadata, clock)
    signer = ServerSigner.load_or_create(settings.signing_key or settings.data_dir / "server.key")
    statements = SignedStatements(signer, blobs)
    keyring = KeyringVerifier.from_files(settings.keys)
    inventory = InventoryService(metadata, blobs, CycloneDxSboms(), OsvMatcher(), guard, clock)
    vulnerabilities = VulnerabilityService(metadata, OsvMatcher(), guard, clock)
    publisher = PublishService(metadata, blobs, policy, statements, guard, clock, on_manifest=inventory.on_manifest)
    retention = RetentionService(metadata, policy, guard, clock)
    upload_expiry = timedelta(hours=settings.upload_expire_hours)
    uploads = UploadService(
        blobs, metadata, max_upload_bytes=settings.max_upload_bytes, expire_after=upload_expiry, clock=clock
    )
    gc = GarbageCollector(metadata, blobs, uploads, guard, clock, upload_expiry=upload_expiry)
    drills = RollbackDrills(metadata, blobs, policy, guard, clock)
    repositories = RepositoryService(
        metadata, blobs, policy, publisher, guard, clock, hooks=[CosignSignatures(keyring, clock)]
    )
    hasher = Argon2Passwords()
    authentication = Authentication(metadata, settings.access, hasher, clock)
    maintenance = Maintenance(policy, retention, gc, drills)
    every = timedelta(hours=settings.maintenance_hours) if settings.maintenance_hours else None
    jobs = JobService(open_worker(metadata, clock, retry), inventory, maintenance, guard, maintenance_every=every)
    return Services(
        metadata=metadata,
        blobs=blobs,
        guard=guard,
        authentication=authentication,
        administration=Administration(
            metadata, policy, settings.access, hasher, guard, clock, on_change=authentication.forget
        ),
        tokens=TokenService(metadata, policy, settings.access, guard, clock, on_change=authentication.forget),
        signer=signer,
        uploads=uploads,
        publisher=publisher,
        packages=PackageService(metadata, policy, publisher, guard, clock),
        repositories=repositories,
        catalog=CatalogService(metadata, policy, guard),
        promotions=PromotionService(
            metadata, policy, PromotionSummaries(statements, policy), vulnerabilities, guard, clock, hooks=[oci_carry]
        ),
        evidence=EvidenceService(metadata, policy, statements, keyring, guard, clock),
        deployments=DeploymentService(metadata, blobs, policy, guard, clock),
        audit=AuditService(metadata, signer, guard, clock),
        retention=retention,
        deletion=DeletionService(metadata, policy, guard, repositories, retention, clock),
        gc=gc,
        drills=drills,
        maintenance=maintenance,
        jobs=jobs,
        fsck=Fsck(metadata, blobs, guard, clock),
        inventory=inventory,
        vulnerabilities=vulnerabilities,
    )


def build_app(settings: Settings, services: Services) -> ASGIApp:
    """/v2 (OCI distribution) and everything else (the JSON API, docs) as one ASGI app, behind the
    middleware that turns credentials into an actor."""
    signer = TokenSigner(token_secret(settings))
    urls = blob_urls(settings)
    blobs = BlobResponses(services.blobs, urls)
    lookups = HotLookups(services.metadata.hot, settings.policy)
    oci = oci_app(services.repositories, services.uploads, signer, OciAccess(services.guard), blobs, lookups)
    npm = npm_app(
        settings.policy,
        NpmSession(services.authentication, services.tokens, services.vulnerabilities).handlers(),
        NpmPackages(services.packages, services.deletion, services.uploads, blobs).handlers(),
    )
    dispatch = PathDispatch("/v2", oci, build_api(settings, services, blobs))
    dispatch = PathDispatch("/npm", npm, dispatch)
    dispatch = PathDispatch("/maven", maven_app(services.packages, services.uploads, blobs), dispatch)
    dispatch = PathDispatch("/generic", generic_app(services.packages, services.uploads, blobs), dispatch)
    dispatch = PathDispatch(WEB.prefix, web_app(web_services(settings, services), token_secret(settings)), dispatch)
    identified = IdentityMiddleware(dispatch, services.authentication, signer, EDGES, services.guard.record_unauthenticated)
    return Observed(identified)


def web_services(settings: Settings, services: Services) -> WebServices:
    return WebServices(
        authentication=services.authentication,
        tokens=services.tokens,
        guard=services.guard,
        board=BoardService(services.metadata, settings.policy, services.vulnerabilities),
        policy=settings.policy,
        promotions=services.promotions,
        evidence=services.evidence,
        deployments=services.deployments,
        catalog=services.catalog,
        inventory=services.inventory,
        audit=services.audit,
    )


def blob_urls(settings: Settings) -> BlobUrls | None:
    """When a blob server runs (``blob_port``), the signer of the URLs blob GETs redirect to."""
    if not settings.blob_port:
        return None
    return BlobUrls(token_secret(settings), settings.blob_url or f"http://:{settings.blob_port}")


def start_blob_server(settings: Settings) -> Running | None:
    """``hoist serve``: the sendfile server for blob downloads, in a thread of the main process."""
    urls = blob_urls(settings)
    if urls is None or not settings.blob_port:
        return None
    metadata = open_metadata(settings)  # corrupt marks: a blob found rotten is never sent
    running = serve_in_thread(
        BlobServer(urls, partial(local_path, Blobs(open_blobs(settings), metadata))), settings.host, settings.blob_port
    )
    running.close_on_stop(metadata.dispose)
    return running


def public_keys(settings: Settings, services: Services) -> dict[str, Any]:
    known = {}
    for name, path in settings.keys.items():
        pem = path.read_bytes()
        known[name] = {"key_id": key_id(load_public(pem)), "public_key": pem.decode()}
    return {"server": {"key_id": services.signer.key_id, "public_key": services.signer.public_pem.decode()}, "keys": known}


def token_secret(settings: Settings) -> bytes:
    """The configured secret, or one made once and kept in the data folder, so that every worker
    process of this server shares it (several hosts: configure token_secret)."""
    if settings.token_secret:
        return settings.token_secret.encode()
    path = settings.data_dir / "token.secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".token.secret.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_hex(32).encode())
        try:
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(draft, path)  # atomic, and never replaces an existing secret
        finally:
            draft.unlink()
    return path.read_bytes()


class PathDispatch:
    """Send requests under ``prefix`` to one app and all others to another, with no routing cost on
    the OCI hot path beyond one string comparison."""

    def __init__(self, prefix: str, inner: ASGIApp, outer: ASGIApp) -> None:
        self.prefix = prefix
        self.inner = inner
        self.outer = outer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == self.prefix or path.startswith(self.prefix + "/"):
            await self.inner(scope, receive, send)
        else:
            await self.outer(scope, receive, send)


def build_api(settings: Settings, services: Services, blobs: BlobResponses) -> FastAPI:
    app = FastAPI(
        title="Hoist",
        version=__version__,
        summary="Artifact registry and promotion engine: build once, promote the same bytes, prove it.",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # docs.mount serves it without a CDN
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,
    )
    docs.mount(app, API)
    app.include_router(system.router(settings.policy, __version__, public_keys(settings, services)), prefix=API)
    app.include_router(access.router(services.administration, services.tokens), prefix=API)
    app.include_router(
        uploads.router(
            services.uploads,
            services.guard,
            list(settings.policy.registries),
            services.metadata.hot.blob_registries,
            blobs,
        ),
        prefix=API,
    )
    app.include_router(supply.router(services.inventory, services.vulnerabilities), prefix=API)  # before /artifacts/{ref}
    app.include_router(marks.router(services.packages), prefix=API)  # before /artifacts/{ref}
    app.include_router(artifacts.router(services.publisher, services.catalog), prefix=API)
    app.include_router(releases.router(services.promotions, services.evidence), prefix=API)
    app.include_router(deployments.router(services.deployments), prefix=API)
    app.include_router(retention.router(services), prefix=API)
    app.include_router(audit.router(services.audit), prefix=API)
    app.include_router(jobs.router(services.jobs), prefix=API)
    app.router.routes.extend(pypi.routes(services.packages, services.uploads, blobs))
    readiness = Readiness(services.metadata, services.blobs.store)
    app.include_router(probes.router(readiness, scrape_probes(services.uploads, services.jobs)))
    app.add_exception_handler(HoistError, handle_hoist_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)

    @app.get("/", include_in_schema=False, response_model=None)
    def root(request: Request) -> dict[str, str] | Response:
        if "text/html" in request.headers.get("accept", ""):  # a browser: the web UI
            return RedirectResponse(f"{WEB.prefix}/", 303)
        return {"name": "hoist", "version": __version__, "api": API, "docs": f"{API}/docs"}

    return app


def schema_problem(metadata: SqlMetadataStore) -> str | None:
    at, head = current_revision(metadata.engine), head_revision(metadata.engine)
    return None if at == head else f"the metadata schema is at {at}, not {head}: run 'hoist db upgrade'"


def create_app() -> ASGIApp:
    """The ASGI app of one server worker, configured from ``HOIST_*`` variables (``hoist serve``)."""
    settings = load_settings()
    logs.configure(settings.log_format)
    metadata = open_metadata(settings)
    count_connections(metadata.engine)
    problem = schema_problem(metadata)
    if problem:
        raise RuntimeError(problem)
    app = build_app(settings, build_services(settings, metadata, open_blobs(settings)))
    # Everything made so far (modules, the app, its services) lives as long as the worker: keep it
    # out of the cyclic collector's full passes, which otherwise stall a request now and then.
    gc.freeze()
    return app


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()]
    message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return JSONResponse(error_body("INVALID_INPUT", f"invalid request: {message}", {"fields": problems}), 400)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes: dict[int, str] = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    return JSONResponse(
        error_body(codes.get(exc.status_code, "HTTP_ERROR"), str(exc.detail)),
        exc.status_code,
        headers=dict(exc.headers or {}),
    )


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("INTERNAL", "internal server error; the server log has the details"), 500)


def describe(settings: Settings) -> dict[str, Any]:
    """What a server would run with, for ``hoist config check``."""
    return {
        "source": str(settings.source) if settings.source else None,
        "listen": f"{settings.host}:{settings.port}",
        "database": _redacted(settings.database_url),
        "storage": settings.storage_url or str(settings.storage_dir),
        **(
            {"s3_endpoint": (settings.s3 and settings.s3.endpoint_url) or os.environ.get("AWS_ENDPOINT_URL")}
            if settings.storage_url
            else {}
        ),
        "max_upload_bytes": settings.max_upload_bytes,
        "workers": settings.workers,
        "registries": sorted(settings.policy.registries),
        "environments": [e.name for e in settings.policy.environments],
        "ceilings": {str(c): e for c, e in settings.policy.ceilings.items()},
    }


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url
