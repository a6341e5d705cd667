"""The npm endpoints of a package, through the ASGI app, as npm 11 calls them: publish, packuments,
tarballs, promotion into prod's view, dist-tags, deprecate, unpublish, and every refusal."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hoist.app import Services, build_app
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.metadata.sql.store import SqlMetadataStore
from tests.asgi import SyncASGITransport, play
from tests.functional.helpers import row_counts
from tests.functional.npm_helpers import events, npm_clients, publish
from tests.npm_documents import publish_document, tarball

NpmAs = Callable[..., httpx.Client]
ABBREVIATED = "application/vnd.npm.install-v1+json"


@pytest.fixture
def npm_as(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[Callable[..., httpx.Client]]:
    yield from npm_clients(transport, token_for)


@pytest.fixture
def config_text() -> str:
    """The default registries, except that prod allows deletes: a sealed version still never leaves."""
    return """
[registries.dev]
direct_push = true
movable_tags = true
allow_delete = true
[registries.prod]
direct_push = false
promote_from = ["dev"]
seal_on_promotion = true
allow_delete = true
"""


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def promote(client_as: Callable[..., HoistClient], ref: str) -> None:
    """As CI attests and a release manager promotes: the least-privileged principals for each."""
    client_as("ci-bot", ["role:ci"]).attest(ref, type="unit-tests", result="pass")
    client_as("rel", ["role:release"]).promote(ref, to="prod")


def test_publish_then_read_plain_and_scoped(npm_as: NpmAs) -> None:
    ci = npm_as("ci-bot")
    data = tarball({"name": "@acme/ui", "version": "1.2.0", "dependencies": {"left-pad": "^1"}, "readme": "x"})
    assert publish(ci, "@acme/ui", "1.2.0", data).status_code == 201
    assert publish(ci, "left-pad", "1.0.0").status_code == 201

    for path in ("@acme%2fui", "@acme/ui"):  # npm escapes the slash; other clients do not
        full = ci.get(path)
        assert full.status_code == 200, full.text
        doc = full.json()
        assert (doc["name"], doc["dist-tags"], list(doc["versions"])) == ("@acme/ui", {"latest": "1.2.0"}, ["1.2.0"])
    version = doc["versions"]["1.2.0"]
    assert version["dependencies"] == {"left-pad": "^1"} and version["readme"] == "x"
    assert version["dist"] == {
        "tarball": "http://hoist.test/npm/dev/@acme/ui/-/ui-1.2.0.tgz",
        "integrity": integrity(data),
        "shasum": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
    }
    short = ci.get("@acme%2fui", headers={"Accept": f"{ABBREVIATED}; q=1.0, application/json; q=0.8, */*"})
    assert short.headers["content-type"].startswith(ABBREVIATED)
    assert set(short.json()["versions"]["1.2.0"]) == {"name", "version", "dependencies", "dist"}

    downloaded = ci.get("@acme/ui/-/ui-1.2.0.tgz")
    assert downloaded.status_code == 200 and downloaded.content == data
    assert ci.get("@acme/ui/1.2.0").json()["dist"] == version["dist"]
    assert ci.get("@acme/ui/latest").json()["version"] == "1.2.0"


def test_bad_publishes_change_nothing(npm_as: NpmAs, metadata: SqlMetadataStore, tmp_path: Path) -> None:
    ci = npm_as("ci-bot")
    before = row_counts(metadata)
    stored = sorted((tmp_path / "store").rglob("*"))
    wrong_name = tarball({"name": "other", "version": "1.0.0"})
    refusals = [
        (publish(ci, "left-pad", "1.0.0", wrong_name), 400, "names 'other'"),
        (publish(ci, "left-pad", "1.0.0", b"not a tarball"), 400, "not a gzipped tar"),
        (ci.put("left-pad", content=b"{"), 400, "not JSON"),
        (ci.put("left-pad", json={"name": "other"}), 400, "URL names"),
        (publish(ci, "Left-Pad", "1.0.0"), 400, "lowercase"),
        (publish(ci, "left-pad", "1.0"), 400, "not a version"),
    ]
    for answer, status, message in refusals:
        assert answer.status_code == status and message in answer.json()["error"], answer.text
    assert row_counts(metadata) == before
    assert sorted((tmp_path / "store").rglob("*")) == stored  # not even a blob


def test_a_tarball_over_the_upload_limit_is_refused(npm_as: NpmAs, tmp_path: Path) -> None:
    """The tests' server takes uploads up to 8 MiB (max_upload_bytes): npm tarballs too."""
    stored = sorted((tmp_path / "store").rglob("*"))
    refused = publish(npm_as("ci-bot"), "left-pad", "1.0.0", os.urandom(9 * 1024 * 1024))
    assert refused.status_code == 413 and "8388608 bytes" in refused.json()["error"], refused.text[:200]
    assert sorted((tmp_path / "store").rglob("*")) == stored


def test_a_version_keeps_its_bytes(npm_as: NpmAs) -> None:
    ci = npm_as("ci-bot")
    assert publish(ci, "left-pad", "1.0.0").status_code == 201
    assert publish(ci, "left-pad", "1.0.0").status_code == 201  # the same bytes again: nothing changes
    other = publish(ci, "left-pad", "1.0.0", tarball({"name": "left-pad", "version": "1.0.0", "main": "x.js"}))
    assert other.status_code == 409 and "other bytes" in other.json()["error"]


def test_prod_takes_promotions_only_and_shows_what_was_promoted(
    npm_as: NpmAs, client_as: Callable[..., HoistClient], client: HoistClient
) -> None:
    ci = npm_as("ci-bot")
    data = tarball({"name": "left-pad", "version": "1.0.0"})
    publish(ci, "left-pad", "1.0.0", data)
    publish(ci, "left-pad", "1.1.0")
    ci.put("-/package/left-pad/dist-tags/beta", json="1.1.0")
    direct = publish(npm_as("rel", ("role:release",), "prod"), "left-pad", "1.0.1")
    assert direct.status_code == 403 and "promote" in direct.json()["error"]
    assert events(client, "artifact:push-refused")[-1]["actor"] == "rel"

    reader = npm_as("deploy-bot", ("read:prod",), "prod")
    assert reader.get("left-pad").status_code == 404
    promote(client_as, "npm/left-pad@1.0.0")
    prod = reader.get("left-pad").json()
    assert list(prod["versions"]) == ["1.0.0"] and prod["dist-tags"] == {"latest": "1.0.0"}
    assert prod["versions"]["1.0.0"]["dist"]["integrity"] == integrity(data)
    assert prod["versions"]["1.0.0"]["dist"]["tarball"] == "http://hoist.test/npm/prod/left-pad/-/left-pad-1.0.0.tgz"
    assert reader.get("left-pad/-/left-pad-1.1.0.tgz").status_code == 404
    head = reader.head("left-pad/-/left-pad-1.0.0.tgz")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
    assert events(client, "artifact:download") == []  # a HEAD takes no bytes: not a download
    assert reader.get("left-pad/-/left-pad-1.0.0.tgz").content == data
    assert len(events(client, "artifact:download")) == 1
    download = events(client, "artifact:download")[-1]
    assert download["actor"] == "deploy-bot" and download["subject"] == "npm/left-pad@1.0.0"
    assert ci.get("http://hoist.test/npm/prod/left-pad").status_code == 403  # the robot reads dev only
    assert events(client, "access:denied")[-1]["actor"] == "ci-bot"


def test_dist_tags(npm_as: NpmAs) -> None:
    ci = npm_as("ci-bot")
    for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        publish(ci, "left-pad", version)
    assert ci.get("-/package/left-pad/dist-tags").json() == {"latest": "1.1.0"}
    assert ci.get("left-pad").json()["dist-tags"] == {"latest": "1.1.0"}  # the page is now cached
    assert ci.put("-/package/left-pad/dist-tags/next", json="2.0.0-rc.1").status_code == 201
    assert ci.get("left-pad").json()["dist-tags"] == {"latest": "1.1.0", "next": "2.0.0-rc.1"}
    assert ci.put("-/package/left-pad/dist-tags/latest", json="1.0.0").status_code == 201
    assert ci.get("-/package/left-pad/dist-tags").json() == {"latest": "1.0.0", "next": "2.0.0-rc.1"}
    assert ci.get("-/package/left-pad/dist-tags/next").json() == "2.0.0-rc.1"
    assert ci.delete("-/package/left-pad/dist-tags/latest").status_code == 200
    assert ci.get("-/package/left-pad/dist-tags").json() == {"latest": "1.1.0", "next": "2.0.0-rc.1"}
    refusals = [
        (ci.put("-/package/left-pad/dist-tags/1.0.0", json="1.0.0"), 400, "looks like a version"),
        (ci.put("-/package/left-pad/dist-tags/old", json="0.1.0"), 404, "left-pad@0.1.0 is not in dev"),
        (ci.put("-/package/left-pad/dist-tags/old", json=["1.0.0"]), 400, "JSON string"),
        (ci.delete("-/package/left-pad/dist-tags/never"), 404, "no dist-tag 'never'"),
        (ci.get("-/package/left-pad/dist-tags/never"), 404, "no dist-tag 'never'"),
        (npm_as("viewer", ("read:dev",)).put("-/package/left-pad/dist-tags/x", json="1.0.0"), 403, "push:dev"),
    ]
    for answer, status, message in refusals:
        assert answer.status_code == status and message in answer.json()["error"], answer.text


def test_deprecate_sets_and_clears_the_message_per_registry(npm_as: NpmAs, client_as: Callable[..., HoistClient]) -> None:
    ci = npm_as("ci-bot")
    publish(ci, "left-pad", "1.0.0")
    promote(client_as, "npm/left-pad@1.0.0")
    packument = ci.get("left-pad", params={"write": "true"}).json()
    packument["versions"]["1.0.0"]["deprecated"] = "use 2"
    assert ci.put("left-pad", json=packument).status_code == 200
    assert ci.get("left-pad").json()["versions"]["1.0.0"]["deprecated"] == "use 2"
    reader = npm_as("deploy-bot", ("read:prod",), "prod")
    assert "deprecated" not in reader.get("left-pad").json()["versions"]["1.0.0"]
    # prod takes promotions only: deprecating there takes the right to promote into it
    assert reader.put("left-pad", json=packument).json()["error"].endswith("promote:prod")
    assert npm_as("rel", ("role:release",), "prod").put("left-pad", json=packument).status_code == 200
    assert reader.get("left-pad").json()["versions"]["1.0.0"]["deprecated"] == "use 2"
    packument["versions"]["1.0.0"]["deprecated"] = ""
    ci.put("left-pad", json=packument)
    assert "deprecated" not in ci.get("left-pad").json()["versions"]["1.0.0"]


def test_unpublish_where_deletes_are_allowed_never_a_sealed_version(
    npm_as: NpmAs, client_as: Callable[..., HoistClient], client: HoistClient
) -> None:
    dev = npm_as("dana", ("role:developer",))
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        publish(dev, "left-pad", version)
    # npm unpublish left-pad@1.2.0: the packument without it to its -rev, then the tarball
    packument = dev.get("left-pad").json()
    del packument["versions"]["1.2.0"]
    assert dev.put(f"left-pad/-rev/{packument['_rev']}", json=packument).status_code == 200
    assert dev.delete("left-pad/-/left-pad-1.2.0.tgz/-rev/x").status_code == 200
    assert list(dev.get("left-pad").json()["versions"]) == ["1.0.0", "1.1.0"]
    assert npm_as("ci-bot").delete("left-pad/-rev/1").status_code == 403  # CI publishes, it does not delete

    promote(client_as, "npm/left-pad@1.0.0")
    release = npm_as("cleaner", ("read:prod", "delete:prod"), "prod")
    sealed = release.delete("left-pad/-rev/1")
    assert sealed.status_code in {403, 409} and "left-pad@1.0.0" in sealed.json()["error"], sealed.text
    refusal = events(client, "artifact:delete-refused")[-1]
    assert refusal["actor"] == "cleaner" and "sealed" in refusal["details"]["problem"]
    assert list(release.get("left-pad").json()["versions"]) == ["1.0.0"]

    assert dev.delete("left-pad/-rev/1").status_code == 200  # dev lets go of every version
    assert dev.get("left-pad").status_code == 404
    assert release.get("left-pad/-/left-pad-1.0.0.tgz").status_code == 200


def test_reads_of_what_is_not_there(npm_as: NpmAs, anonymous: httpx.Client) -> None:
    ci = npm_as("ci-bot")
    publish(ci, "left-pad", "1.0.0")
    for path, message in (
        ("nothing", "nothing is not in dev"),
        ("left-pad/-/left-pad-9.9.9.tgz", "left-pad@9.9.9 is not in dev"),
        ("left-pad/-/other-1.0.0.tgz", "not a tarball of left-pad"),
        ("left-pad/9.9.9", "left-pad@9.9.9 is not in dev"),
    ):
        answer = ci.get(path)
        assert answer.status_code in {400, 404} and message in answer.json()["error"], answer.text
    assert anonymous.get("/npm/dev/left-pad").status_code == 401
    doc = publish_document("left-pad", "1.0.1", tarball({"name": "left-pad", "version": "1.0.1"}))
    assert anonymous.put("/npm/dev/left-pad", content=json.dumps(doc)).status_code == 401


def test_a_put_from_who_may_write_nothing_there_is_refused_before_its_body_is_read(
    settings: Settings, services: Services, token_for: Callable[..., str], client: HoistClient
) -> None:
    """npm's PUT of a package document carries a tarball-sized body: a reader's, or a CI robot's
    into prod, is refused (audited, in npm's shape) without pulling a byte of it."""
    app = build_app(settings, services)
    reader = {"authorization": f"Bearer {token_for('deploy-bot', ['read:dev', 'read:prod'], robot=True)}"}
    seen = play(app, "PUT", "/npm/dev/left-pad", 64, b"x" * 65536, {**reader, "content-type": "application/json"})
    assert seen.status == 403 and seen.pulled == 0
    assert "error" in json.loads(seen.body)
    ci = {"authorization": f"Bearer {token_for('ci-bot', ['role:ci'], robot=True)}"}
    seen = play(app, "PUT", "/npm/prod/left-pad", 64, b"x" * 65536, {**ci, "content-type": "application/json"})
    error = json.loads(seen.body)["error"]
    assert seen.status == 403 and seen.pulled == 0 and "then promote" in error and error.endswith("promote:prod")
    assert [e["actor"] for e in events(client, "access:denied")[-2:]] == ["deploy-bot", "ci-bot"]
