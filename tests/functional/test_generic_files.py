"""Plain HTTP at /generic through the ASGI app, spoken to as curl does (Basic credentials with an API
token as the password): every endpoint and every error, in text bodies curl prints."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator

import httpx
import pytest

from hoist.app import Services, build_app
from hoist.config import Settings
from hoist.domain.digests import Digest
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.storage.filesystem import FilesystemBlobStore
from tests.asgi import SyncASGITransport
from tests.functional.helpers import row_counts
from tests.functional.test_request_bodies import play

APP = b"the build output" * 1000
JS = b"console.log('shop');\n"
DEV = "/generic/dev/shop/web/1.4.0"
PROD = "/generic/prod/shop/web/1.4.0"


@pytest.fixture
def curl_as(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[Callable[..., httpx.Client]]:
    """A curl-like client for ``name`` holding ``role`` (Basic, the API token as the password)."""
    opened: list[httpx.Client] = []

    def make(name: str, role: str, *, robot: bool = True) -> httpx.Client:
        client = httpx.Client(
            transport=transport, base_url="http://hoist.test", auth=(name, token_for(name, [f"role:{role}"], robot=robot))
        )
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def ci(curl_as: Callable[..., httpx.Client]) -> httpx.Client:
    return curl_as("ci", "ci")


@pytest.fixture
def release(curl_as: Callable[..., httpx.Client]) -> httpx.Client:
    return curl_as("release", "release")


def promote(services: Services, release: httpx.Client, ci: httpx.Client, ref: str = "shop/web@1.4.0") -> None:
    attested = ci.post("/api/v1/attestations", json={"ref": ref, "type": "unit-tests", "result": "pass"})
    assert attested.status_code == 201, attested.text
    promoted = release.post("/api/v1/promotions", json={"ref": ref, "to": "prod"})
    assert promoted.status_code in {200, 201}, promoted.text


def actions(services: Services) -> list[tuple[str, str]]:
    with services.metadata.reader() as s:
        return [(e.action, e.actor) for e in s.audit.events()]


def test_files_join_one_version_and_come_back_with_their_checksums(ci: httpx.Client, blobs: FilesystemBlobStore) -> None:
    put = ci.put(f"{DEV}/app.tgz", content=APP, headers={"X-Checksum-Sha256": hashlib.sha256(APP).hexdigest()})
    assert put.status_code == 201, put.text
    assert put.headers["content-type"].startswith("text/plain") and "app.tgz" in put.text
    assert put.headers["x-checksum-sha1"] == hashlib.sha1(APP).hexdigest()
    assert ci.put(f"{DEV}/bundle.js", content=JS, headers={"Content-Type": "text/javascript"}).status_code == 201

    listing = ci.get(f"{DEV}/")
    assert listing.status_code == 200 and listing.headers["content-type"] == "application/json"
    assert [(f["name"], f["size"], f["digest"]) for f in listing.json()["files"]] == [
        ("app.tgz", len(APP), str(Digest.of(APP))),
        ("bundle.js", len(JS), str(Digest.of(JS))),
    ]
    assert listing.json()["sealed"] is False
    assert ci.get(f"{DEV}/", headers={"Accept": "text/plain"}).text == "app.tgz\nbundle.js\n"

    got = ci.get(f"{DEV}/app.tgz")
    assert got.status_code == 200 and got.content == APP
    assert got.headers["content-length"] == str(len(APP))
    assert got.headers["x-checksum-sha256"] == hashlib.sha256(APP).hexdigest()
    assert got.headers["digest"].startswith("sha-256=" + base64.b64encode(hashlib.sha256(APP).digest()).decode() + ",")
    assert got.headers["x-checksum-md5"] == hashlib.md5(APP).hexdigest()
    assert ci.get(f"{DEV}/bundle.js").headers["content-type"].startswith("text/javascript")
    head = ci.head(f"{DEV}/app.tgz")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(APP))
    ranged = ci.get(f"{DEV}/app.tgz", headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == APP[10:20]
    assert ci.get(f"{DEV}/app.tgz", headers={"Range": "bytes=99999999-"}).status_code == 416


def test_the_same_file_again_is_a_no_op_and_other_bytes_are_refused(ci: httpx.Client) -> None:
    assert ci.put(f"{DEV}/app.tgz", content=APP).status_code == 201
    again = ci.put(f"{DEV}/app.tgz", content=APP)
    assert again.status_code == 200 and again.text.startswith("unchanged")
    other = ci.put(f"{DEV}/app.tgz", content=b"other bytes")
    assert other.status_code == 409 and other.headers["content-type"].startswith("text/plain")
    assert ci.get(f"{DEV}/app.tgz").content == APP


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Checksum-Sha256": hashlib.sha256(b"other").hexdigest()},
        {"X-Checksum-Sha1": hashlib.sha1(b"other").hexdigest()},
        {"X-Checksum-Md5": hashlib.md5(b"other").hexdigest()},
        {"Digest": "sha-256=" + base64.b64encode(hashlib.sha256(b"other").digest()).decode()},
        {"Content-Digest": "sha-512=:" + base64.b64encode(hashlib.sha512(b"other").digest()).decode() + ":"},
    ],
)
def test_bytes_that_are_not_what_the_client_declared_are_refused_and_nothing_is_stored(
    ci: httpx.Client, blobs: FilesystemBlobStore, metadata: SqlMetadataStore, headers: dict[str, str]
) -> None:
    before = row_counts(metadata)
    r = ci.put(f"{DEV}/app.tgz", content=APP, headers=headers)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")
    assert "nothing was stored" in r.text
    assert Digest.of(APP) not in set(blobs.digests()) and list(blobs.uploads()) == []
    assert row_counts(metadata) == before
    assert ci.get(f"{DEV}/app.tgz").status_code == 404


def test_a_direct_put_into_prod_is_refused_unread_saying_to_promote(
    ci: httpx.Client, services: Services, settings: Settings, token_for: Callable[..., str]
) -> None:
    r = ci.put(f"{PROD}/app.tgz", content=APP)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/plain")
    assert "promote" in r.text
    assert ("artifact:push-refused", "ci") in actions(services)
    auth = "Basic " + base64.b64encode(f"ci:{token_for('ci', ['role:ci'], robot=True)}".encode()).decode()
    seen = play(build_app(settings, services), "PUT", f"{PROD}/big.bin", 64, b"x" * 65536, {"authorization": auth})
    assert seen.status == 403 and seen.pulled == 0


def test_prod_shows_the_version_only_once_promoted_with_the_same_bytes(
    ci: httpx.Client, release: httpx.Client, services: Services
) -> None:
    assert ci.put(f"{DEV}/app.tgz", content=APP).status_code == 201
    assert release.get(f"{PROD}/app.tgz").status_code == 404
    assert release.get(f"{PROD}/").status_code == 404
    promote(services, release, ci)
    assert release.head(f"{PROD}/app.tgz").headers["content-length"] == str(len(APP))
    assert ("artifact:download", "release") not in actions(services)  # a HEAD takes no bytes: not a download
    got = release.get(f"{PROD}/app.tgz")
    assert got.status_code == 200 and got.content == APP
    assert got.headers["x-checksum-sha256"] == hashlib.sha256(APP).hexdigest()
    assert release.get(f"{PROD}/").json()["sealed"] is True
    assert ("artifact:download", "release") in actions(services)  # a sealed version's download is audited
    late = ci.put(f"{DEV}/late.js", content=JS)  # placed and sealed elsewhere: it takes no new file
    assert (late.status_code == 409 and "promote" in late.text) or "sealed" in late.text


@pytest.mark.parametrize(
    ("method", "path", "status", "words"),
    [
        ("PUT", "/generic/dev/app.tgz", 400, "use /generic/<registry>/<package>/<version>/<file>"),
        ("PUT", "/generic/dev/Shop/1.0.0/a", 400, "is not a valid package name"),
        ("PUT", "/generic/dev/shop/1.0/a", 400, "1.0"),
        ("PUT", "/generic/dev/npm/x/1.0.0/a", 400, "reserved for the npm view"),
        ("PUT", "/generic/nowhere/shop/1.0.0/a", 404, "nowhere"),
        ("PUT", "/generic/dev/shop/1.0.0/", 404, "PUT one file at a time"),
        ("GET", "/generic/dev/shop/1.0.0/a", 404, "shop"),
        ("GET", "/generic/dev/shop/1.0.0/", 404, "shop@1.0.0 is not in dev"),
        ("GET", "/generic/prod/shop/1.0.0/a", 403, "read:prod"),
    ],
)
def test_every_bad_request_gets_a_text_error(ci: httpx.Client, method: str, path: str, status: int, words: str) -> None:
    r = ci.request(method, path, content=b"x" if method == "PUT" else None)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/plain") and words in r.text


def test_a_malformed_checksum_header_is_refused_before_the_body(
    settings: Settings, services: Services, token_for: Callable[..., str], blobs: FilesystemBlobStore
) -> None:
    auth = "Basic " + base64.b64encode(f"ci:{token_for('ci', ['role:ci'], robot=True)}".encode()).decode()
    headers = {"authorization": auth, "x-checksum-sha256": "abc"}
    seen = play(build_app(settings, services), "PUT", f"{DEV}/a", 4, b"x" * 1024, headers)
    assert seen.status == 400 and seen.pulled == 0 and b"X-Checksum-Sha256" in seen.body
    truncated = play(
        build_app(settings, services), "PUT", f"{DEV}/a", 2, b"x" * 1024, {"authorization": auth, "content-length": "4096"}
    )
    assert truncated.status == 400 and b"nothing was stored" in truncated.body
    assert list(blobs.uploads()) == []


def test_nobody_is_asked_to_log_in_with_basic(anonymous: httpx.Client) -> None:
    r = anonymous.get(f"{DEV}/app.tgz")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Basic realm="hoist"'
