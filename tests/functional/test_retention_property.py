"""Property: no sequence of pushes, promotions, deployments, time passing, retention runs, purges
and restores ever takes away a protected artifact.

Protected, computed here from the history this test keeps (not by the server's code): what an
environment runs now and the last ``rollback_window`` distinct versions deployed to each
environment per package (every placement stays), and what prod sealed less than
``sealed_min_days`` ago (its prod placement stays). On SQLite, a fresh database per example.
"""

from __future__ import annotations

import functools
import itertools
import shutil
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings, target
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from hoist.app import build_services
from hoist.config import load_settings
from hoist.domain.errors import HoistError
from hoist.domain.models import ArtifactRef, FileEntry
from hoist.metadata.sql.migrate import upgrade
from hoist.metadata.sql.store import SqlMetadataStore, make_engine
from hoist.storage.filesystem import FilesystemBlobStore
from tests.conftest import ADMIN, put_bytes

WINDOW = 2
SEALED_DAYS = 10
CONFIG = f"""
[registries.dev]
direct_push = true
overwrite_snapshots = true
seal_on_promotion = false
retention = {{ keep_last = 1, snapshot_days = 1, max_age_days = 2, trash_days = 1 }}
[registries.prod]
direct_push = false
promote_from = ["dev"]
retention = {{ keep_releases = 1, sealed_min_days = {SEALED_DAYS}, trash_days = 1 }}

[environments.dev]
registry = "dev"
[environments.uat]
registry = "dev"
[environments.prod]
registry = "prod"

[ceilings]
snapshot = "uat"
rc = "uat"
release = "prod"

[retention]
rollback_window = {WINDOW}
"""


@functools.cache
def _template() -> Path:
    """One migrated database, copied for each example (migrating each time costs more than a run)."""
    path = Path(tempfile.mkdtemp(prefix="hoist-retention-template-")) / "hoist.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


class Retention(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hoist-retention-"))
        (self.root / "hoist.toml").write_text(CONFIG)
        shutil.copy(_template(), self.root / "hoist.db")
        url = f"sqlite:///{self.root / 'hoist.db'}"
        settings_ = load_settings(
            self.root / "hoist.toml",
            environ={},
            overrides={"data_dir": str(self.root), "database_url": url, "fsync": False},
        )
        self.metadata = SqlMetadataStore.from_url(url)
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        blobs = FilesystemBlobStore(self.root / "store", fsync=False)
        self.services = build_services(settings_, self.metadata, blobs, lambda: self.now)
        self.blob = put_bytes(blobs, b"the build output")
        self.refs: list[str] = []
        # (env, pkg) -> (ref, when, order): two deployments in the same instant count in the order they ran
        self.deployed: dict[tuple[str, str], list[tuple[str, datetime, int]]] = defaultdict(list)
        self.sequence = itertools.count()
        self.sealed_at: dict[str, datetime] = {}  # ref -> when it was promoted (sealed) into prod
        self.trashed = 0

    def teardown(self) -> None:
        if currently_in_test_context():
            target(float(self.trashed), label="versions trashed")  # steer towards runs that delete a lot
        TRASHED.append(self.trashed)
        self.metadata.dispose()
        shutil.rmtree(self.root, ignore_errors=True)

    @rule(
        package=st.sampled_from(["app", "app", "app", "web"]),
        minor=st.integers(0, 9),
        channel=st.sampled_from(["", "", "-rc.1", "-SNAPSHOT"]),
    )
    def push(self, package: str, minor: int, channel: str) -> None:
        version = f"1.{minor}.0{channel}"
        try:
            result = self.services.publisher.publish(
                registry="dev",
                package=package,
                version=version,
                files=[FileEntry("app.bin", self.blob.digest, self.blob.size)],
                actor=ADMIN,
            )
        except HoistError:
            return  # e.g. the version exists with other bytes: nothing changed
        if result.artifact.ref not in self.refs:
            self.refs.append(result.artifact.ref)

    @precondition(lambda self: bool(self.refs))
    @rule(pick=st.integers(0, 1000))
    def promote(self, pick: int) -> None:
        ref = self.refs[pick % len(self.refs)]
        try:
            result = self.services.promotions.promote(ArtifactRef.parse(ref), to="prod", actor=ADMIN)
        except HoistError:
            return
        if result.status == "promoted":
            self.sealed_at[ref] = self.now

    @precondition(lambda self: bool(self.refs))
    @rule(pick=st.integers(0, 1000), environment=st.sampled_from(["dev", "uat", "prod"]))
    def deploy(self, pick: int, environment: str) -> None:
        ref = self.refs[pick % len(self.refs)]
        try:
            self.services.deployments.deploy(ArtifactRef.parse(ref), environment=environment, actor=ADMIN)
        except HoistError:
            return  # refused by a gate (e.g. not in that registry any more): nothing changed
        self.deployed[(environment, ref.split("@")[0])].append((ref, self.now, next(self.sequence)))

    @rule(days=st.integers(0, 3), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        self.now += timedelta(days=days, hours=hours, seconds=1)

    def _placements(self) -> dict[str, set[str]]:
        with self.metadata.reader() as s:
            return {a.ref: {p.registry for p in s.placements.of(a.id)} for a in s.artifacts.find()}

    def _protected(self) -> dict[str, set[str] | None]:
        """ref -> the registries it must stay in (None: every registry it is in)."""
        protected: dict[str, set[str] | None] = {}
        for deployments in self.deployed.values():
            distinct: list[str] = []
            for ref, _when, _order in sorted(deployments, key=lambda d: (d[1], d[2]), reverse=True):
                if ref not in distinct:
                    distinct.append(ref)
            protected.update(dict.fromkeys(distinct[:WINDOW]))  # includes what runs now: the newest
        for ref, when in self.sealed_at.items():  # sealed in prod recently: its prod copy stays
            if self.now - when < timedelta(days=SEALED_DAYS) and ref not in protected:
                protected[ref] = {"prod"}
        return protected

    @precondition(lambda self: len(self.refs) >= 3)
    @rule(registry=st.sampled_from([None, "dev", "prod"]))
    def retention_runs(self, registry: str | None) -> None:
        before, protected = self._placements(), self._protected()
        applied = self.services.retention.apply(ADMIN, registry)
        self.trashed += sum(len(a.trashed) for a in applied)
        after = self._placements()
        for ref, where in protected.items():
            must = before[ref] if where is None else before[ref] & where
            assert must <= after[ref], f"{ref} is protected, yet lost {must - after[ref]}"

    @rule()
    def purge(self) -> None:
        self.services.retention.purge(ADMIN)
        self.services.gc.collect(ADMIN)  # and what purged versions leave goes too

    @precondition(lambda self: bool(self.refs))
    @rule(pick=st.integers(0, 1000))
    def restore(self, pick: int) -> None:
        items = self.services.retention.trash(ADMIN, state="trashed")
        if items:
            self.services.retention.restore(ADMIN, items[pick % len(items)].id)

    @invariant()
    def the_audit_chain_holds(self) -> None:
        if hasattr(self, "services"):
            assert self.services.audit.verify(actor=ADMIN).ok


TRASHED: list[int] = []  # versions each example's retention runs took: the property is not vacuous


def test_retention_never_takes_a_protected_artifact() -> None:
    TRASHED.clear()
    run_state_machine_as_test(
        Retention,
        # no shrinking: a failing sequence is reported as found (shrinking one costs minutes here)
        settings=settings(
            max_examples=60,
            stateful_step_count=40,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert sum(TRASHED) > 20, TRASHED  # retention did delete, around the protected versions


def test_the_property_sees_a_version_taken_from_the_rollback_window() -> None:
    """The machine's check is not vacuous: a sequence whose retention run must keep a version only
    for the rollback window (two deployments, newer versions, time passing) keeps it, and the
    invariant would name it if retention took it."""
    machine = Retention()
    machine.start()
    try:
        machine.push("app", 0, "")
        machine.deploy(0, "dev")
        machine.push("app", 1, "")
        machine.deploy(1, "dev")
        machine.push("app", 2, "")
        machine.push("app", 3, "")
        machine.time_passes(3, 0)
        assert machine._protected() == {"app@1.0.0": None, "app@1.1.0": None}
        machine.retention_runs("dev")  # asserts the protected versions kept their placements
        assert machine.trashed == 1  # 1.2.0: neither running, nor in the window, nor the newest
        (verdict,) = [
            v for p in machine.services.retention.plan(ADMIN, "dev") for v in p.verdicts if v.candidate.ref == "app@1.0.0"
        ]
        assert verdict.guarantee and "rollback window of dev" in verdict.reason
    finally:
        machine.teardown()
