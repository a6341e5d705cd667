"""PackageService: the use cases every package protocol translates to, on both databases.

Files join a version one request at a time while it sits unsealed in the registry it was published
to; a registry's view is what is placed there; marks and movable tags are per registry; reads of a
sealed version are audited; nothing a refusal touches changes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hoist.app import Services, build_services
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain import errors as e
from hoist.domain.events import AuditEvent
from hoist.domain.models import Actor, ArtifactRef, FileEntry, MarkKind
from hoist.formats.common.ingest import store_bytes
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.packages import FileNotFound
from hoist.services.publishing import Outcome
from hoist.storage.filesystem import FilesystemBlobStore
from tests.functional.helpers import row_counts

NO_GATES = """
[registries.dev]
direct_push = true
overwrite_snapshots = true
allow_delete = true

[registries.prod]
direct_push = false
promote_from = ["dev"]
seal_on_promotion = true
"""


@pytest.fixture
def config_text() -> str:
    return NO_GATES


@pytest.fixture
def actor(services: Services, token_for: Callable[..., str]) -> Callable[..., Actor]:
    def make(name: str, *grants: str, robot: bool = False) -> Actor:
        return services.authentication.authenticate_token(token_for(name, list(grants), robot=robot), None)

    return make


def _events(services: Services, package: str) -> list[AuditEvent]:
    with services.metadata.reader() as s:
        return list(s.audit.events(package=package))


def _file(services: Services, name: str, data: bytes) -> FileEntry:
    return store_bytes(data, services.uploads).entry(name)


def test_files_accumulate_into_one_version_until_it_is_promoted(services: Services, actor: Callable[..., Actor]) -> None:
    ci = actor("ci-bot", "role:ci", robot=True)
    release = actor("rel", "role:release")
    pom = _file(services, "core-1.4.0.pom", b"<project/>")
    jar = _file(services, "core-1.4.0.jar", b"PK\x03\x04jar")
    first = services.packages.add_files(
        registry="dev", package="maven/org.acme:core", version="1.4.0", files=[pom], actor=ci
    )
    assert first.outcome is Outcome.CREATED
    second = services.packages.add_files(
        registry="dev", package="maven/org.acme:core", version="1.4.0", files=[jar], actor=ci
    )
    assert second.outcome is Outcome.OVERWRITTEN and second.replaced == str(first.artifact.digest)
    again = services.packages.add_files(
        registry="dev", package="maven/org.acme:core", version="1.4.0", files=[jar], actor=ci
    )
    assert again.outcome is Outcome.UNCHANGED and again.artifact.digest == second.artifact.digest

    view = services.packages.view("dev", "maven/org.acme:core", ci)
    assert view is not None
    (listed,) = view.versions
    assert [f.name for f in listed.manifest.files()] == ["core-1.4.0.jar", "core-1.4.0.pom"]
    jar_entry = listed.manifest.files()[0]
    assert jar_entry.checksum("sha1") == jar.checksum("sha1") and jar_entry.checksum("md5") is not None
    assert services.packages.view("prod", "maven/org.acme:core", release) is None

    services.promotions.promote(ArtifactRef.parse("maven/org.acme:core@1.4.0"), to="prod", actor=release)
    prod = services.packages.view("prod", "maven/org.acme:core", release)
    assert prod is not None and prod.versions[0].placement.sealed
    assert prod.versions[0].artifact.digest == second.artifact.digest  # a pointer, no byte copied

    sources = _file(services, "core-1.4.0-sources.jar", b"PK\x03\x04src")
    with pytest.raises(e.VersionExists, match="sealed in prod"):
        services.packages.add_files(
            registry="dev", package="maven/org.acme:core", version="1.4.0", files=[sources], actor=ci
        )
    events = [ev.action for ev in _events(services, "maven/org.acme:core")]
    assert "artifact:add-files" in events


def test_a_release_file_never_takes_other_bytes(
    services: Services, actor: Callable[..., Actor], metadata: SqlMetadataStore
) -> None:
    ci = actor("ci-bot", "role:ci", robot=True)
    services.packages.add_files(
        registry="dev", package="npm/@acme/ui", version="1.2.0", files=[_file(services, "ui-1.2.0.tgz", b"one")], actor=ci
    )
    before = row_counts(metadata)
    with pytest.raises(e.VersionExists, match=r"ui-1\.2\.0\.tgz"):
        services.packages.add_files(
            registry="dev",
            package="npm/@acme/ui",
            version="1.2.0",
            files=[_file(services, "ui-1.2.0.tgz", b"two")],
            actor=ci,
        )
    assert row_counts(metadata) == before


def test_a_direct_publish_into_prod_is_refused_and_audited(services: Services, actor: Callable[..., Actor]) -> None:
    release = actor("rel", "role:release")
    with pytest.raises(e.Denied, match="promote"):
        services.packages.add_files(
            registry="prod",
            package="pypi/shop-utils",
            version="1.0.0",
            files=[_file(services, "a.whl", b"w")],
            actor=release,
        )
    events = _events(services, "pypi/shop-utils")
    assert [ev.action for ev in events] == ["artifact:push-refused"]


def test_versions_follow_the_format_scheme_and_its_channel_ceiling(services: Services, actor: Callable[..., Actor]) -> None:
    ci = actor("ci-bot", "role:ci", robot=True)
    for v, data in [("1.0.0rc1", b"a"), ("1.0.0", b"b"), ("1.0.0.dev3", b"c"), ("0.9", b"d")]:
        services.packages.add_files(
            registry="dev", package="pypi/shop-utils", version=v, files=[_file(services, f"s-{v}.tar.gz", data)], actor=ci
        )
    view = services.packages.view("dev", "pypi/shop-utils", ci)
    assert view is not None
    assert [str(v.artifact.version) for v in view.versions] == ["0.9", "1.0.0.dev3", "1.0.0rc1", "1.0.0"]
    assert [str(v.artifact.channel) for v in view.versions] == ["release", "snapshot", "rc", "release"]
    assert [v.artifact.ceiling for v in view.versions] == ["prod", "dev", "uat", "prod"]
    with pytest.raises(e.InvalidVersion):
        services.packages.add_files(
            registry="dev", package="pypi/shop-utils", version="1.0+local", files=[_file(services, "x", b"x")], actor=ci
        )


def test_reading_a_sealed_file_is_audited(services: Services, actor: Callable[..., Actor]) -> None:
    ci = actor("ci-bot", "role:ci", robot=True)
    release = actor("rel", "role:release")
    services.packages.add_files(
        registry="dev", package="shop/bundle", version="2.0.0", files=[_file(services, "app.js", b"js")], actor=ci
    )
    opened = services.packages.open_file("dev", "shop/bundle", "2.0.0", "app.js", ci)
    assert not opened.sealed and opened.file.size == 2
    services.promotions.promote(ArtifactRef.parse("shop/bundle@2.0.0"), to="prod", actor=release)
    viewer = actor("ops", "role:operator")
    assert services.packages.open_file("prod", "shop/bundle", "2.0.0", "app.js", viewer).sealed
    downloads = [ev for ev in _events(services, "shop/bundle") if ev.action == "artifact:download"]
    assert [(ev.actor, ev.details["registry"], ev.details["file"]) for ev in downloads] == [("ops", "prod", "app.js")]
    with pytest.raises(FileNotFound):
        services.packages.open_file("prod", "shop/bundle", "2.0.0", "other.js", viewer)
    with pytest.raises(e.ArtifactNotFound):
        services.packages.open_file("prod", "shop/bundle", "2.0.1", "app.js", viewer)
    with pytest.raises(e.Denied):
        services.packages.open_file("prod", "shop/bundle", "2.0.0", "app.js", ci)  # ci reads dev only


def test_marks_and_tags_are_per_registry(services: Services, actor: Callable[..., Actor]) -> None:
    ci = actor("ci-bot", "role:ci", robot=True)
    release = actor("rel", "role:release")
    for v in ("1.0.0", "1.1.0"):
        services.packages.add_files(
            registry="dev", package="npm/left-pad", version=v, files=[_file(services, f"p-{v}.tgz", v.encode())], actor=ci
        )
    assert services.packages.mark("dev", "npm/left-pad", "1.0.0", MarkKind.DEPRECATED, "use 1.1", ci)
    services.packages.set_tag("dev", "npm/left-pad", "beta", "1.1.0", ci)
    services.promotions.promote(ArtifactRef.parse("npm/left-pad@1.0.0"), to="prod", actor=release)
    dev = services.packages.view("dev", "npm/left-pad", ci)
    prod = services.packages.view("prod", "npm/left-pad", release)
    assert dev is not None and prod is not None
    assert dev.versions[0].marks == {MarkKind.DEPRECATED: "use 1.1"} and prod.versions[0].marks == {}
    assert dev.tags["beta"] == dev.versions[1].artifact.digest and "beta" not in prod.tags
    with pytest.raises(e.Denied):  # in prod, marking takes the right to promote there
        services.packages.mark("prod", "npm/left-pad", "1.0.0", MarkKind.DEPRECATED, "no", ci)
    assert services.packages.mark("prod", "npm/left-pad", "1.0.0", MarkKind.YANKED, "broken", release)
    assert services.packages.mark("dev", "npm/left-pad", "1.0.0", MarkKind.DEPRECATED, None, ci)
    assert not services.packages.mark("dev", "npm/left-pad", "1.0.0", MarkKind.DEPRECATED, None, ci)
    assert services.packages.remove_tag("dev", "npm/left-pad", "beta", ci)
    assert services.packages.packages("dev", "npm", ci) == ["npm/left-pad"]


def test_a_cached_view_follows_changes_made_by_another_worker(
    services: Services,
    actor: Callable[..., Actor],
    settings: Settings,
    metadata: SqlMetadataStore,
    blobs: FilesystemBlobStore,
) -> None:
    """Each worker caches views by the package's generation; whatever another worker changes
    (a file, a promotion, a mark, a tag, a deletion) is seen at the next read."""
    other = build_services(settings, metadata, blobs)  # a second worker: its own caches, same stores
    ci = actor("ci-bot", "role:ci", robot=True)
    dev_user = actor("dev", "role:developer")
    release = actor("rel", "role:release")
    key = "npm/left-pad"

    def seen(registry: str, who: Actor) -> tuple[object, ...]:
        view = services.packages.view(registry, key, who)
        if view is None:
            return ()
        return tuple(
            (str(v.artifact.version), len(v.manifest.files()), dict(v.marks), v.placement.sealed) for v in view.versions
        ) + tuple(sorted(view.tags))

    other.packages.add_files(registry="dev", package=key, version="1.0.0", files=[_file(services, "a.tgz", b"a")], actor=ci)
    assert seen("dev", ci) == (("1.0.0", 1, {}, False),)
    assert services.packages.view("dev", key, ci) is services.packages.view("dev", key, ci)  # cached
    other.packages.add_files(registry="dev", package=key, version="1.0.0", files=[_file(services, "b.txt", b"b")], actor=ci)
    assert seen("dev", ci) == (("1.0.0", 2, {}, False),)
    other.packages.mark("dev", key, "1.0.0", MarkKind.DEPRECATED, "old", ci)
    assert seen("dev", ci) == (("1.0.0", 2, {MarkKind.DEPRECATED: "old"}, False),)
    other.packages.set_tag("dev", key, "beta", "1.0.0", ci)
    assert seen("dev", ci)[-1] == "beta"
    assert seen("prod", release) == ()
    other.promotions.promote(ArtifactRef.parse(f"{key}@1.0.0"), to="prod", actor=release)
    assert seen("prod", release) == (("1.0.0", 2, {}, True),)
    other.packages.add_files(registry="dev", package=key, version="2.0.0", files=[_file(services, "c.tgz", b"c")], actor=ci)
    assert [v[0] for v in seen("dev", ci)[:2]] == ["1.0.0", "2.0.0"]
    other.deletion.delete(ArtifactRef.parse(f"{key}@2.0.0"), registry="dev", actor=dev_user)
    assert [v[0] for v in seen("dev", ci)[:1]] == ["1.0.0"] and len(seen("dev", ci)) == 2  # 1.0.0 and the tag


def test_a_native_version_is_promoted_deployed_and_rolled_back_by_its_key(
    services: Services, actor: Callable[..., Actor], client_as: Callable[..., HoistClient]
) -> None:
    """The CLI's and API's verbs take native keys (``maven/<g>:<a>@<v>``, ``npm/@scope/name@<v>``)
    with the format's own version spelling."""
    ci = actor("ci-bot", "role:ci", robot=True)
    for version, data in [("1.4.0", b"one"), ("1.5.0-RC1", b"two"), ("1.5.0", b"three")]:
        services.packages.add_files(
            registry="dev",
            package="maven/org.acme:core",
            version=version,
            files=[_file(services, "core.jar", data)],
            actor=ci,
        )
    release = client_as("rel", ["role:release"])
    for version in ("1.4.0", "1.5.0"):
        assert release.promote(f"maven/org.acme:core@{version}", to="prod")["status"] == "promoted"
    assert release.artifact("maven/org.acme:core@1.5.0-RC1")["channel"] == "rc"
    robot = client_as("ci-bot", ["role:ci"])
    for version in ("1.4.0", "1.5.0"):
        deployment = robot.deploy(f"maven/org.acme:core@{version}", environment="dev", pending=True)
        robot.finish(deployment["id"], succeeded=True)
    back = robot.rollback("maven/org.acme:core", environment="dev")
    assert back["deployment"]["version"] == "1.4.0"
    assert [a["version"] for a in release.artifacts(package="maven/org.acme:core", registry="prod")] == ["1.4.0", "1.5.0"]
