"""The metadata store contract, run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import inspect

from hoist.domain.digests import Digest
from hoist.domain.errors import ConcurrentUpdate, DeploymentNotFound
from hoist.domain.events import Action, EventDraft, verify_chain
from hoist.domain.manifests import generic_manifest, parse_manifest
from hoist.domain.models import (
    AttachmentKind,
    DeploymentKind,
    DeploymentStatus,
    FileEntry,
    Pipeline,
    PlacementVia,
    Result,
)
from hoist.domain.ports import BlobState, UploadRecord
from hoist.domain.versions import Version
from hoist.metadata.sql.migrate import alembic_config, upgrade
from hoist.metadata.sql.store import SqlMetadataStore, make_engine

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PIPELINE = Pipeline("github-actions", "812", project="acme/shop")


def manifest(package: str, version: str, content: bytes = b"bytes"):  # type: ignore[no-untyped-def]
    files = [FileEntry("f.bin", Digest.of(content), len(content))]
    return parse_manifest(generic_manifest(package, Version.parse(version), files))


def add(store: SqlMetadataStore, package: str = "shop-api", version: str = "1.0.0", content: bytes = b"bytes"):  # type: ignore[no-untyped-def]
    m = manifest(package, version, content)
    with store.session() as s:
        s.manifests.add(m, now=NOW)
        return s.artifacts.add(
            package=package,
            format="generic",
            version=Version.parse(version),
            manifest=m,
            ceiling="prod",
            pushed_by="alice",
            pushed_at=NOW,
            pipeline=PIPELINE,
        )


def test_artifacts_round_trip(metadata: SqlMetadataStore) -> None:
    a = add(metadata, version="1.4.0.57")
    with metadata.reader() as s:
        got = s.artifacts.get("shop-api", Version.parse("1.4.0+57"))
        assert got == a
        assert got is not None and str(got.version) == "1.4.0.57" and got.pipeline == PIPELINE
        assert got.pushed_at == NOW and got.pushed_at.tzinfo is not None
        assert s.artifacts.by_digest("shop-api", a.digest) == a
        assert s.artifacts.get_by_id(a.id) == a
        assert s.artifacts.package_format("shop-api") == "generic"
        assert s.manifests.get(a.digest) == manifest("shop-api", "1.4.0.57")


def test_versions_are_listed_in_version_order(metadata: SqlMetadataStore) -> None:
    for v in ["1.10.0", "1.2.0", "1.2.0-rc.1", "1.2.0+3", "1.2.0+12"]:
        add(metadata, version=v)
    add(metadata, package="another", version="0.1.0")
    with metadata.reader() as s:
        listed = [str(a.version) for a in s.artifacts.find(package="shop-api")]
        assert listed == ["1.2.0-rc.1", "1.2.0", "1.2.0+3", "1.2.0+12", "1.10.0"]
        assert next(a.package for a in s.artifacts.find()) == "another"


def test_a_version_exists_once(metadata: SqlMetadataStore) -> None:
    add(metadata, version="1.0.0")
    with pytest.raises(ConcurrentUpdate):
        add(metadata, version="1.0.0", content=b"other")


def test_a_failed_unit_of_work_leaves_nothing_behind(metadata: SqlMetadataStore) -> None:
    m = manifest("shop-api", "2.0.0")
    with pytest.raises(RuntimeError), metadata.session() as s:  # noqa: PT012 - the crash ends the block
        s.manifests.add(m, now=NOW)
        s.artifacts.add(
            package="shop-api",
            format="generic",
            version=Version.parse("2.0.0"),
            manifest=m,
            ceiling="prod",
            pushed_by="alice",
            pushed_at=NOW,
            pipeline=None,
        )
        s.audit.append(EventDraft(Action.PUSH, "alice", "shop-api@2.0.0"), now=NOW)
        raise RuntimeError("crash mid-way")
    with metadata.reader() as s:
        assert s.artifacts.find() == []
        assert s.manifests.get(m.digest) is None
        assert s.audit.events() == []


def test_build_numbers_are_allocated_without_duplicates_under_concurrency(metadata: SqlMetadataStore) -> None:
    add(metadata, version="3.0.0+5")  # an explicit build counts
    numbers: list[int] = []
    lock = threading.Lock()

    def allocate() -> None:
        for _ in range(5):
            while True:
                try:
                    with metadata.session() as s:
                        n = s.artifacts.next_build("shop-api", Version.parse("3.0.0"))
                    break
                except ConcurrentUpdate:
                    continue
            with lock:
                numbers.append(n)

    threads = [threading.Thread(target=allocate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == list(range(6, 26))


def test_placements_are_unique_per_registry(metadata: SqlMetadataStore) -> None:
    a = add(metadata)
    with metadata.session() as s:
        s.placements.add(a.id, "dev", sealed=False, via=PlacementVia.PUSH, actor="alice", now=NOW)
        s.placements.add(a.id, "prod", sealed=True, via=PlacementVia.PROMOTION, actor="rel", now=NOW)
    with pytest.raises(ConcurrentUpdate), metadata.session() as s:
        s.placements.add(a.id, "prod", sealed=True, via=PlacementVia.PROMOTION, actor="rel", now=NOW)
    with metadata.reader() as s:
        placed = s.placements.of(a.id)
        assert [(p.registry, p.sealed, p.via) for p in placed] == [
            ("dev", False, PlacementVia.PUSH),
            ("prod", True, PlacementVia.PROMOTION),
        ]
        assert [x.id for x in s.artifacts.find(registry="prod")] == [a.id]


def test_attachments_deployments_and_holds(metadata: SqlMetadataStore) -> None:
    a = add(metadata)
    with metadata.session() as s:
        att = s.attachments.add(
            subject=a.digest,
            kind=AttachmentKind.ATTESTATION,
            type="unit-tests",
            result=Result.PASS,
            environment=None,
            actor="ci",
            now=NOW,
            details={"tests": 3},
            pipeline=PIPELINE,
        )
        d = s.deployments.add(
            a,
            "dev",
            status=DeploymentStatus.STARTED,
            kind=DeploymentKind.DEPLOY,
            actor="ops",
            now=NOW,
            pipeline=None,
            reason="first",
        )
        s.holds.add(a.id, "prod", reason="bad", actor="ops", now=NOW)
    with metadata.session() as s:
        assert s.attachments.of(a.digest) == [att]
        assert att.details == {"tests": 3} and att.pipeline == PIPELINE
        assert d.status is DeploymentStatus.STARTED and d.finished_at is None
        done = s.deployments.finish(d.id, DeploymentStatus.SUCCEEDED, now=NOW, exit_code=0)
        assert done.status is DeploymentStatus.SUCCEEDED and done.exit_code == 0
        assert s.deployments.succeeded_environments(a.id) == frozenset({"dev"})
        assert [h.environment for h in s.holds.of(a.id)] == ["prod"]
        assert s.holds.release(a.id, "prod") and not s.holds.release(a.id, "prod")
        with pytest.raises(DeploymentNotFound):
            s.deployments.get(9999)
    with metadata.reader() as s:
        assert [x.id for x in s.deployments.history(environment="dev", package="shop-api")] == [d.id]
        assert s.deployments.history(environment="prod") == []


def test_attachments_and_holds_in_one_read_each(metadata: SqlMetadataStore) -> None:
    a, b, c = (add(metadata, version=v, content=v.encode()) for v in ("1.0.0", "1.1.0", "1.2.0"))
    with metadata.session() as s:
        made = [
            s.attachments.add(
                subject=x.digest,
                kind=AttachmentKind.ATTESTATION,
                type="unit-tests",
                result=Result.PASS,
                environment=None,
                actor="ci",
                now=NOW,
                details={},
                pipeline=None,
            )
            for x in (a, a, b)
        ]
        s.holds.add(b.id, "prod", reason="bad", actor="ops", now=NOW)
    with metadata.reader() as s:
        found = s.attachments.of_subjects({a.digest, c.digest})
        assert found == {a.digest: made[:2], c.digest: []}  # asked for, in order; b's not read
        assert s.attachments.of_subjects(set()) == {}
        assert [(h.artifact_id, h.environment) for h in s.holds.every()] == [(b.id, "prod")]


def test_audit_appends_form_one_chain_under_concurrency(metadata: SqlMetadataStore) -> None:
    def append(who: str) -> None:
        for i in range(10):
            while True:
                try:
                    with metadata.session() as s:
                        s.audit.append(
                            EventDraft(
                                Action.ATTEST,
                                who,
                                f"pkg@{i}",
                                package="pkg",
                                details={"i": i, "nested": {"b": [1, 2], "a": None}},
                            ),
                            now=datetime.now(UTC),
                        )
                    break
                except ConcurrentUpdate:
                    continue

    threads = [threading.Thread(target=append, args=(f"actor{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with metadata.reader() as s:
        events = s.audit.events()
        assert [e.seq for e in events] == list(range(1, 41))
        assert verify_chain(events).ok
        assert len(s.audit.events(after=35)) == 5 and len(s.audit.events(limit=7)) == 7
        assert {e.subject for e in s.audit.events(subject="pkg@3")} == {"pkg@3"}


def test_a_nested_unit_of_work_is_refused_at_once(metadata: SqlMetadataStore) -> None:
    with metadata.session(), pytest.raises(RuntimeError, match="inside another"):
        metadata.session().__enter__()
    with metadata.session() as s:  # and the store is usable afterwards
        assert s.audit.events() == []


def test_hot_reads_name_what_a_repository_holds_as_stored(metadata: SqlMetadataStore) -> None:
    """Versions come as the artifacts store them and movable tags apart: each protocol spells them."""
    built, plain = add(metadata, version="1.4.0+57"), add(metadata, version="1.4.0.58")
    elsewhere = add(metadata, version="2.0.0")
    with metadata.session() as s:
        for a in (built, plain):
            s.placements.add(a.id, "dev", sealed=False, via=PlacementVia.PUSH, actor="alice", now=NOW)
        s.placements.add(elsewhere.id, "prod", sealed=True, via=PlacementVia.PROMOTION, actor="rel", now=NOW)
        s.repositories.add_manifest("dev", "shop-api", built.digest, now=NOW)
        s.repositories.set_tag("dev", "shop-api", "latest", built.digest, actor="alice", now=NOW)
    versions, tags = metadata.hot.names("dev", "shop-api")
    assert (sorted(versions), tags) == (["1.4.0+57", "1.4.0.58"], ["latest"])
    assert metadata.hot.names("dev", "no-such-package") == ([], [])


def test_the_newest_placement_per_package_and_registry_follows_placements_as_they_come_and_go(
    metadata: SqlMetadataStore,
) -> None:
    from datetime import timedelta

    a, b, c = (add(metadata, version=v, content=v.encode()) for v in ("1.0.0", "1.1.0", "1.2.0"))
    other = add(metadata, package="left-pad", version="0.1.0", content=b"pad")
    with metadata.session() as s:
        for n, x in enumerate((a, b, c)):
            s.placements.add(x.id, "dev", sealed=False, via=PlacementVia.PUSH, actor="ci", now=NOW + timedelta(hours=n))
        s.placements.add(a.id, "prod", sealed=True, via=PlacementVia.PROMOTION, actor="rel", now=NOW + timedelta(hours=5))
        s.placements.add(other.id, "dev", sealed=False, via=PlacementVia.PUSH, actor="ci", now=NOW)
        # placed late with an older moment (a clock behind another server's): not the newest
        s.placements.add(b.id, "prod", sealed=True, via=PlacementVia.PROMOTION, actor="rel", now=NOW + timedelta(hours=1))

    def heads(**kw: str) -> set[tuple[int, str]]:
        with metadata.reader() as s:
            return {(p.artifact_id, p.registry) for p in s.placements.newest({"dev", "prod"}, **kw)}

    assert heads() == {(c.id, "dev"), (a.id, "prod"), (other.id, "dev")}
    assert heads(package_contains="PAD") == {(other.id, "dev")}  # any case
    assert heads(package_contains="%") == set()  # a LIKE wildcard is a plain character
    with metadata.session() as s:
        s.placements.remove(c.id, "dev")  # the newest goes: the one before takes its place
        s.placements.remove(a.id, "prod")
    assert heads() == {(b.id, "dev"), (b.id, "prod"), (other.id, "dev")}
    with metadata.session() as s:
        s.placements.remove(other.id, "dev")  # the last one: the package has none left there
        assert {(p.artifact_id, p.registry) for p in s.placements.of_artifacts({a.id, b.id})} == {
            (a.id, "dev"),
            (b.id, "dev"),
            (b.id, "prod"),
        }
        assert [x.id for x in s.artifacts.by_ids({b.id, other.id, 9999})] in ([b.id, other.id], [other.id, b.id])
    assert heads() == {(b.id, "dev"), (b.id, "prod")}


def test_what_runs_now_is_the_newest_deployment_that_succeeded(metadata: SqlMetadataStore) -> None:
    a, b = (add(metadata, version=v, content=v.encode()) for v in ("1.0.0", "1.1.0"))
    pad = add(metadata, package="left-pad", version="0.1.0", content=b"pad")

    def deploy(x, env: str, status: DeploymentStatus):  # type: ignore[no-untyped-def]
        with metadata.session() as s:
            return s.deployments.add(
                x, env, status=status, kind=DeploymentKind.DEPLOY, actor="ops", now=NOW, pipeline=None, reason=None
            )

    def running(**kw: str) -> set[tuple[str, str, str]]:
        with metadata.reader() as s:
            return {(d.package, d.environment, str(d.version)) for d in s.deployments.current(**kw)}

    deploy(a, "prod", DeploymentStatus.SUCCEEDED)
    deploy(b, "prod", DeploymentStatus.FAILED)  # failed: a still runs
    pending = deploy(b, "uat", DeploymentStatus.STARTED)
    deploy(pad, "prod", DeploymentStatus.SUCCEEDED)
    assert running() == {("shop-api", "prod", "1.0.0"), ("left-pad", "prod", "0.1.0")}
    with metadata.session() as s:
        s.deployments.finish(pending.id, DeploymentStatus.SUCCEEDED, now=NOW, exit_code=0)  # started, then succeeded
    assert running(package_contains="shop") == {("shop-api", "prod", "1.0.0"), ("shop-api", "uat", "1.1.0")}
    deploy(a, "uat", DeploymentStatus.SUCCEEDED)  # a rollback: the older version runs again
    assert ("shop-api", "uat", "1.0.0") in running()
    with metadata.reader() as s:
        assert s.deployments.succeeded_environments_of({a.id, b.id, pad.id}) == {
            a.id: frozenset({"prod", "uat"}),
            b.id: frozenset({"uat"}),
            pad.id: frozenset({"prod"}),
        }
        # the same as reading the whole history
        assert {(d.package, d.environment) for d in s.deployments.current()} == {
            (d.package, d.environment) for d in s.deployments.history() if d.status is DeploymentStatus.SUCCEEDED
        }


def test_the_heads_migration_makes_them_from_the_placements_and_deployments_already_there(database_url: str) -> None:
    from alembic import command

    from hoist.metadata.sql.migrate import alembic_config, upgrade

    store = SqlMetadataStore.from_url(database_url)
    try:
        a, b = (add(store, version=v, content=v.encode()) for v in ("1.0.0", "1.1.0"))
        with store.session() as s:
            s.placements.add(a.id, "dev", sealed=False, via=PlacementVia.PUSH, actor="ci", now=NOW)
            s.placements.add(b.id, "dev", sealed=False, via=PlacementVia.PUSH, actor="ci", now=NOW)
            for x in (b, a):
                s.deployments.add(
                    x,
                    "prod",
                    status=DeploymentStatus.SUCCEEDED,
                    kind=DeploymentKind.DEPLOY,
                    actor="o",
                    now=NOW,
                    pipeline=None,
                    reason=None,
                )
        command.downgrade(alembic_config(store.engine), "0010")  # the heads are gone, the rows stay
        upgrade(store.engine)
        with store.reader() as s:
            assert [p.artifact_id for p in s.placements.newest({"dev"})] == [b.id]  # same moment: the later one
            assert [str(d.version) for d in s.deployments.current()] == ["1.0.0"]  # rolled back last
    finally:
        store.engine.dispose()


def test_an_upload_record_advances_only_from_the_size_it_holds(metadata: SqlMetadataStore) -> None:
    """Two servers writing the same upload: the one whose record is stale loses, as a lost race."""
    later = NOW + timedelta(minutes=5)
    with metadata.session() as s:
        s.uploads.add(UploadRecord("u1", "key-1", 0, None, NOW, NOW))
        s.uploads.add(UploadRecord("u2", "key-2", 0, None, NOW, NOW))
    with metadata.session() as s:
        assert s.uploads.advance("u1", was=0, size=10, hash_state=b"state after 10", now=later)
        assert not s.uploads.advance("u1", was=0, size=7, hash_state=b"stale", now=later)
        assert not s.uploads.advance("gone", was=0, size=1, hash_state=None, now=later)
    with metadata.reader() as s:
        assert s.uploads.get("u1") == UploadRecord("u1", "key-1", 10, b"state after 10", NOW, later)
        assert [r.upload_id for r in s.uploads.idle(NOW + timedelta(minutes=1))] == ["u2"]
        assert [r.upload_id for r in s.uploads.every()] == ["u1", "u2"]
    with metadata.session() as s:
        assert s.uploads.remove("u2") and not s.uploads.remove("u2")
    with metadata.reader() as s:
        assert s.uploads.get("u2") is None


def test_blob_states_keep_touches_corrupt_marks_and_quarantine(metadata: SqlMetadataStore) -> None:
    a, b = Digest.of(b"a"), Digest.of(b"b")
    later = NOW + timedelta(hours=2)
    with metadata.session() as s:
        s.blobs.touch(a, now=NOW)
        assert s.blobs.adopt([a, b], now=NOW) == 1  # a has its row already
    with metadata.session() as s:
        assert s.blobs.lock_untouched(a, since=NOW + timedelta(seconds=1))
        assert not s.blobs.lock_untouched(a, since=NOW)
        assert not s.blobs.lock_untouched(Digest.of(b"no row"), since=later)
        s.blobs.touch(a, now=later)
        s.blobs.mark_corrupt(b, now=later)
    assert metadata.hot.blob_corrupt(str(b)) and not metadata.hot.blob_corrupt(str(a))
    with metadata.session() as s:
        assert s.blobs.touched() == {a: later, b: NOW}
        assert s.blobs.get(b) == BlobState(b, NOW, later)
        assert s.blobs.clear_corrupt(b) and not s.blobs.clear_corrupt(b)
        s.blobs.quarantine(a, aside="quarantine/a", size=1, now=later)
    with metadata.reader() as s:
        assert s.blobs.get(a) is None and s.blobs.quarantined() == [(a, "quarantine/a")]


def test_the_blob_states_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    tables = {"blob_states", "quarantined_blobs", "blob_uploads"}
    engine = make_engine(database_url)
    try:
        command.downgrade(alembic_config(engine), "0008")
        assert not tables & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert tables <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
