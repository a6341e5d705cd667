"""The principals contract (users, robots, teams, grants, tokens), run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hoist.domain.errors import ConcurrentUpdate, Conflict, NotFound
from hoist.domain.principals import PrincipalKind, Token, new_token, token_hash
from hoist.metadata.sql.migrate import alembic_config, current_revision, upgrade
from hoist.metadata.sql.principals import SqlPrincipals
from hoist.metadata.sql.store import SqlMetadataStore, make_engine
from hoist.metadata.sql.tables import Base

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
USER, ROBOT, TEAM = PrincipalKind.USER, PrincipalKind.ROBOT, PrincipalKind.TEAM
PRINCIPAL_TABLES = {"users", "teams", "team_members", "grants", "tokens"}


def token(
    owner: str, *, at: datetime = NOW, scope: tuple[str, ...] | None = None, expires_at: datetime | None = None
) -> tuple[Token, str]:
    token_id, secret, secret_hash = new_token()
    return (
        Token(
            id=token_id,
            owner=owner,
            description=f"{owner}'s token",
            secret_hash=secret_hash,
            scope=scope,
            created_at=at,
            created_by="admin",
            expires_at=expires_at,
            revoked_at=None,
        ),
        secret,
    )


# the schema


def test_the_migrated_schema_is_exactly_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            # procrastinate's own tables (PostgreSQL's job queue) come with its schema, not ours
            ours = {"compare_type": True, "include_name": lambda name, *_: not str(name).startswith("procrastinate")}
            context = MigrationContext.configure(conn, opts=ours)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_the_principals_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) >= PRINCIPAL_TABLES
        command.downgrade(alembic_config(engine), "0003")
        assert current_revision(engine) == "0003"
        assert not PRINCIPAL_TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= PRINCIPAL_TABLES
    finally:
        engine.dispose()


# users and robots


def test_users_and_robots_round_trip(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        alice = s.principals.add_user("alice", USER, "argon2-hash", actor="admin", now=NOW)
        ci = s.principals.add_user("ci", ROBOT, None, actor="alice", now=NOW + timedelta(minutes=1))
        assert (alice.name, alice.kind, alice.password_hash, alice.disabled) == ("alice", USER, "argon2-hash", False)
    with metadata.reader() as s:
        assert s.principals.user("alice") == alice
        assert s.principals.user("ci") == ci
        assert ci.kind is ROBOT and ci.password_hash is None and ci.created_by == "alice"
        assert s.principals.user("nobody") is None
        assert [u.name for u in s.principals.users()] == ["alice", "ci"]
        assert s.principals.count_users() == 2
        got = s.principals.user("alice")
        assert got is not None and got.created_at == NOW and got.created_at.tzinfo is UTC


def test_datetimes_come_back_aware_and_in_utc(metadata: SqlMetadataStore) -> None:
    paris = datetime(2026, 11, 26, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=paris)
        s.principals.add_token(token("alice", at=paris, expires_at=paris + timedelta(days=1))[0])
    with metadata.reader() as s:
        got = s.principals.user("alice")
        assert got is not None and got.created_at == NOW and got.created_at.tzinfo is UTC
        (stored,) = s.principals.tokens("alice")
        assert stored.created_at == NOW and stored.created_at.tzinfo is UTC
        assert stored.expires_at == NOW + timedelta(days=1) and stored.expires_at.tzinfo is UTC


def test_an_empty_store_counts_no_users(metadata: SqlMetadataStore) -> None:
    with metadata.reader() as s:
        assert s.principals.count_users() == 0
        assert s.principals.users() == []


def test_disabling_and_enabling_a_user(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("ci", ROBOT, None, actor="admin", now=NOW)
    with metadata.session() as s:
        assert s.principals.set_disabled("ci", True)
        assert not s.principals.set_disabled("nobody", True)
    with metadata.session() as s:
        got = s.principals.user("ci")
        assert got is not None and got.disabled
        assert s.principals.set_disabled("ci", False)
        got = s.principals.user("ci")
        assert got is not None and not got.disabled


def test_set_password(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("alice", USER, "old", actor="admin", now=NOW)
        s.principals.add_user("bob", USER, "bobs", actor="admin", now=NOW)
    with metadata.session() as s:
        assert s.principals.set_password("alice", "new")
        assert not s.principals.set_password("nobody", "new")
        got = s.principals.user("alice")  # the change is visible in the same unit of work
        assert got is not None and got.password_hash == "new"
    with metadata.reader() as s:
        alice, bob = s.principals.user("alice"), s.principals.user("bob")
        assert alice is not None and alice.password_hash == "new"
        assert bob is not None and bob.password_hash == "bobs"


def test_users_robots_and_teams_share_one_namespace(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        s.principals.add_user("ci", ROBOT, None, actor="admin", now=NOW)
        s.principals.add_team("ops", actor="admin", now=NOW)
    clashes: list[tuple[Callable[[SqlPrincipals], object], str]] = [
        (lambda p: p.add_team("alice", actor="admin", now=NOW), "user 'alice' already exists"),
        (lambda p: p.add_user("alice", USER, None, actor="admin", now=NOW), "user 'alice' already exists"),
        (lambda p: p.add_user("alice", ROBOT, None, actor="admin", now=NOW), "user 'alice' already exists"),
        (lambda p: p.add_user("ci", USER, None, actor="admin", now=NOW), "robot 'ci' already exists"),
        (lambda p: p.add_team("ci", actor="admin", now=NOW), "robot 'ci' already exists"),
        (lambda p: p.add_user("ops", USER, None, actor="admin", now=NOW), "team 'ops' already exists"),
        (lambda p: p.add_team("ops", actor="admin", now=NOW), "team 'ops' already exists"),
    ]
    for clash, message in clashes:
        with pytest.raises(Conflict) as caught, metadata.session() as s:
            clash(s.principals)
        assert type(caught.value) is Conflict  # a clash, not a race to retry
        assert caught.value.message == message
    with metadata.reader() as s:
        assert s.principals.count_users() == 2
        assert [t for t, _ in s.principals.teams()] == ["ops"]
        alice = s.principals.user("alice")
        assert alice is not None and alice.kind is USER


def test_a_clash_leaves_the_unit_of_work_usable(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        with pytest.raises(Conflict):
            s.principals.add_team("alice", actor="admin", now=NOW)
        s.principals.add_team("devs", actor="admin", now=NOW)
    with metadata.reader() as s:
        assert s.principals.teams() == [("devs", ())]


def test_a_name_taken_by_a_concurrent_unit_of_work_is_a_conflict(metadata: SqlMetadataStore) -> None:
    # PostgreSQL lets both see the name free: the loser's insert fails on the key, and must still say
    # why plainly. SQLite serialises writers, so the loser sees the winner's row.
    outcome: list[BaseException | None] = []

    def second() -> None:
        try:
            with metadata.session() as s:
                s.principals.add_user("alice", ROBOT, None, actor="other", now=NOW)
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(0.5)  # the racer reaches its insert (PostgreSQL) or waits to begin (SQLite)
    racer.join(timeout=30)
    assert not racer.is_alive()
    (error,) = outcome
    assert isinstance(error, Conflict) and not isinstance(error, ConcurrentUpdate)
    assert error.message == "user 'alice' already exists"
    with metadata.reader() as s:
        got = s.principals.user("alice")
        assert got is not None and (got.kind, got.created_by) == (USER, "admin")


def test_add_user_refuses_a_team(metadata: SqlMetadataStore) -> None:
    with pytest.raises(ValueError, match="add_team"), metadata.session() as s:
        s.principals.add_user("ops", TEAM, None, actor="admin", now=NOW)


# teams


def test_teams_and_their_members(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        for name in ["carol", "alice", "bob"]:
            s.principals.add_user(name, USER, None, actor="admin", now=NOW)
        s.principals.add_user("ci", ROBOT, None, actor="admin", now=NOW)
        for team in ["ops", "devs", "empty"]:
            s.principals.add_team(team, actor="admin", now=NOW)
        assert s.principals.add_member("devs", "carol", now=NOW)
        assert s.principals.add_member("devs", "alice", now=NOW)
        assert s.principals.add_member("devs", "ci", now=NOW)
        assert s.principals.add_member("ops", "bob", now=NOW)
        assert s.principals.add_member("ops", "alice", now=NOW)
        assert not s.principals.add_member("devs", "alice", now=NOW)
    with metadata.reader() as s:
        assert s.principals.teams() == [
            ("devs", ("alice", "carol", "ci")),
            ("empty", ()),
            ("ops", ("alice", "bob")),
        ]
        assert s.principals.teams_of("alice") == ("devs", "ops")
        assert s.principals.teams_of("ci") == ("devs",)
        assert s.principals.teams_of("nobody") == ()
        assert s.principals.team_exists("devs") and not s.principals.team_exists("alice")
    with metadata.session() as s:
        assert s.principals.remove_member("ops", "alice")
        assert not s.principals.remove_member("ops", "alice")
        assert not s.principals.remove_member("nowhere", "bob")
    with metadata.reader() as s:
        assert s.principals.teams_of("alice") == ("devs",)
        assert dict(s.principals.teams())["ops"] == ("bob",)


def test_members_must_exist(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        s.principals.add_team("devs", actor="admin", now=NOW)
    with pytest.raises(NotFound, match="nowhere"), metadata.session() as s:
        s.principals.add_member("nowhere", "alice", now=NOW)
    with pytest.raises(NotFound, match="nobody"), metadata.session() as s:
        s.principals.add_member("devs", "nobody", now=NOW)
    with pytest.raises(NotFound, match="devs"), metadata.session() as s:
        s.principals.add_member("devs", "devs", now=NOW)  # a team is not a member of a team
    with metadata.reader() as s:
        assert s.principals.teams() == [("devs", ())]


def test_deleting_a_team_removes_its_memberships_and_grants(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        s.principals.add_team("devs", actor="admin", now=NOW)
        s.principals.add_team("ops", actor="admin", now=NOW)
        s.principals.add_member("devs", "alice", now=NOW)
        s.principals.add_member("ops", "alice", now=NOW)
        s.principals.grant(TEAM, "devs", "role:developer", actor="admin", now=NOW)
        s.principals.grant(TEAM, "ops", "deploy@prod", actor="admin", now=NOW)
        s.principals.grant(USER, "alice", "read:dev", actor="admin", now=NOW)
    with metadata.session() as s:
        assert s.principals.delete_team("devs")
        assert not s.principals.delete_team("devs")
        assert not s.principals.delete_team("nowhere")
    with metadata.reader() as s:
        assert not s.principals.team_exists("devs")
        assert s.principals.teams() == [("ops", ("alice",))]
        assert s.principals.teams_of("alice") == ("ops",)
        assert s.principals.grants_of(TEAM, "devs") == ()
        assert s.principals.all_grants() == [(TEAM, "ops", "deploy@prod"), (USER, "alice", "read:dev")]
        assert s.principals.effective_grants("alice") == ("deploy@prod", "read:dev")
        assert s.principals.user("alice") is not None
    with metadata.session() as s:  # the name is free again
        s.principals.add_user("devs", ROBOT, None, actor="admin", now=NOW)
        assert s.principals.grants_of(USER, "devs") == ()


# grants


def test_grants_are_idempotent(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        assert s.principals.grant(USER, "alice", "role:viewer", actor="admin", now=NOW)
        assert s.principals.grant(USER, "alice", "push:dev", actor="admin", now=NOW)
        assert not s.principals.grant(USER, "alice", "role:viewer", actor="other", now=NOW)
    with metadata.session() as s:
        assert not s.principals.grant(USER, "alice", "push:dev", actor="admin", now=NOW)
        assert s.principals.grants_of(USER, "alice") == ("push:dev", "role:viewer")
        assert s.principals.revoke(USER, "alice", "push:dev")
        assert not s.principals.revoke(USER, "alice", "push:dev")
        assert not s.principals.revoke(TEAM, "alice", "role:viewer")  # alice's grant is not a team's
    with metadata.reader() as s:
        assert s.principals.grants_of(USER, "alice") == ("role:viewer",)
        assert s.principals.grants_of(USER, "nobody") == ()


def test_a_robot_is_granted_as_a_user(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("ci", ROBOT, None, actor="admin", now=NOW)
        assert s.principals.grant(ROBOT, "ci", "push:dev", actor="admin", now=NOW)
        assert not s.principals.grant(USER, "ci", "push:dev", actor="admin", now=NOW)
    with metadata.reader() as s:
        assert s.principals.grants_of(USER, "ci") == ("push:dev",)
        assert s.principals.grants_of(ROBOT, "ci") == ("push:dev",)
        assert s.principals.effective_grants("ci") == ("push:dev",)
        assert s.principals.all_grants() == [(USER, "ci", "push:dev")]


def test_effective_grants_are_a_users_own_and_its_teams(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        for name in ["alice", "bob", "carol"]:
            s.principals.add_user(name, USER, None, actor="admin", now=NOW)
        for team in ["devs", "ops", "qa"]:
            s.principals.add_team(team, actor="admin", now=NOW)
        s.principals.add_member("devs", "alice", now=NOW)
        s.principals.add_member("ops", "alice", now=NOW)
        s.principals.add_member("devs", "bob", now=NOW)
        s.principals.add_member("qa", "carol", now=NOW)
        s.principals.grant(USER, "alice", "role:viewer", actor="admin", now=NOW)
        s.principals.grant(USER, "alice", "push:dev", actor="admin", now=NOW)
        s.principals.grant(TEAM, "devs", "push:dev", actor="admin", now=NOW)  # also alice's own
        s.principals.grant(TEAM, "devs", "role:developer", actor="admin", now=NOW)
        s.principals.grant(TEAM, "ops", "deploy@prod", actor="admin", now=NOW)
        s.principals.grant(TEAM, "ops", "role:viewer", actor="admin", now=NOW)  # also alice's own
        s.principals.grant(TEAM, "qa", "approve@uat", actor="admin", now=NOW)
        s.principals.grant(USER, "carol", "audit", actor="admin", now=NOW)
        s.principals.grant(TEAM, "alice", "admin", actor="admin", now=NOW)  # no team alice: never alice's
    with metadata.reader() as s:
        assert s.principals.effective_grants("alice") == ("deploy@prod", "push:dev", "role:developer", "role:viewer")
        assert s.principals.effective_grants("bob") == ("push:dev", "role:developer")
        assert s.principals.effective_grants("carol") == ("approve@uat", "audit")
        assert s.principals.effective_grants("nobody") == ()
        assert s.principals.grants_of(USER, "alice") == ("push:dev", "role:viewer")
        assert s.principals.grants_of(TEAM, "devs") == ("push:dev", "role:developer")


def test_all_grants_are_listed_sorted(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_user("bob", USER, None, actor="admin", now=NOW)
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        s.principals.add_team("ops", actor="admin", now=NOW)
        s.principals.grant(USER, "bob", "read:dev", actor="admin", now=NOW)
        s.principals.grant(TEAM, "ops", "deploy@prod", actor="admin", now=NOW)
        s.principals.grant(USER, "alice", "role:viewer", actor="admin", now=NOW)
        s.principals.grant(USER, "alice", "admin", actor="admin", now=NOW)
    with metadata.reader() as s:
        listed = s.principals.all_grants()
        assert listed == [
            (TEAM, "ops", "deploy@prod"),
            (USER, "alice", "admin"),
            (USER, "alice", "role:viewer"),
            (USER, "bob", "read:dev"),
        ]
        assert all(type(kind) is PrincipalKind for kind, _, _ in listed)


# tokens


def test_tokens_round_trip(metadata: SqlMetadataStore) -> None:
    first, first_secret = token("alice", scope=("read:dev", "push:dev"), expires_at=NOW + timedelta(days=30))
    second, _ = token("alice", at=NOW + timedelta(hours=1))
    narrow, _ = token("alice", at=NOW + timedelta(hours=2), scope=())
    robot, _ = token("ci", at=NOW + timedelta(minutes=30))
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        s.principals.add_user("ci", ROBOT, None, actor="admin", now=NOW)
        for t in (first, second, narrow, robot):
            s.principals.add_token(t)
    with metadata.reader() as s:
        assert s.principals.token_by_hash(token_hash(first_secret)) == first
        assert s.principals.token_by_hash(token_hash("hoist_wrong")) is None
        assert s.principals.token(first.id) == first
        assert s.principals.token("unknown") is None
        got = s.principals.token(first.id)
        assert got is not None and got.scope == ("read:dev", "push:dev") and got.expires_at == NOW + timedelta(days=30)
        got = s.principals.token(second.id)
        assert got is not None and got.scope is None and got.expires_at is None and got.revoked_at is None
        got = s.principals.token(narrow.id)
        assert got is not None and got.scope == ()  # an empty scope is not "everything"
        assert [t.id for t in s.principals.tokens("alice")] == [narrow.id, second.id, first.id]
        assert [t.id for t in s.principals.tokens()] == [narrow.id, second.id, robot.id, first.id]
        assert s.principals.tokens("ci") == [robot]
        assert s.principals.tokens("nobody") == []


def test_a_token_needs_an_owner(metadata: SqlMetadataStore) -> None:
    with pytest.raises(NotFound, match="nobody"), metadata.session() as s:
        s.principals.add_token(token("nobody")[0])
    with metadata.reader() as s:
        assert s.principals.tokens() == []


def test_revoking_a_token(metadata: SqlMetadataStore) -> None:
    kept, _ = token("alice")
    revoked, secret = token("alice")
    later = NOW + timedelta(hours=3)
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        s.principals.add_token(kept)
        s.principals.add_token(revoked)
    with metadata.session() as s:
        assert s.principals.revoke_token(revoked.id, now=later)
    with metadata.session() as s:
        assert not s.principals.revoke_token(revoked.id, now=later + timedelta(hours=1))
        assert not s.principals.revoke_token("unknown", now=later)
    with metadata.reader() as s:
        got = s.principals.token_by_hash(token_hash(secret))
        assert got is not None and got.revoked_at == later and got.revoked_at.tzinfo is UTC  # the first revocation
        assert got.state(later) == "revoked"
        other = s.principals.token(kept.id)
        assert other is not None and other.revoked_at is None and other.state(later) == "active"


def test_token_states(metadata: SqlMetadataStore) -> None:
    expiring, _ = token("alice", expires_at=NOW + timedelta(days=1))
    forever, _ = token("alice")
    with metadata.session() as s:
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)
        s.principals.add_token(expiring)
        s.principals.add_token(forever)
        s.principals.revoke_token(forever.id, now=NOW + timedelta(days=400))
    with metadata.reader() as s:
        stored = s.principals.token(expiring.id)
        assert stored is not None
        assert stored.state(NOW) == "active"
        assert stored.state(NOW + timedelta(hours=23)) == "active"
        assert stored.state(NOW + timedelta(days=1)) == "expired"  # expiry is exclusive
        assert stored.state(NOW + timedelta(days=2)) == "expired"
        stored = s.principals.token(forever.id)
        assert stored is not None
        assert stored.state(NOW + timedelta(days=1000)) == "revoked"
        assert stored.state(NOW) == "revoked"  # revocation wins, whatever the clock says
    with metadata.session() as s:
        assert s.principals.revoke_token(expiring.id, now=NOW + timedelta(days=3))
        stored = s.principals.token(expiring.id)
        assert stored is not None and stored.state(NOW + timedelta(days=3)) == "revoked"  # revoked beats expired


# units of work


def test_a_failed_unit_of_work_leaves_no_principal_behind(metadata: SqlMetadataStore) -> None:
    with pytest.raises(RuntimeError), metadata.session() as s:  # noqa: PT012 - the crash ends the block
        s.principals.add_user("alice", USER, "hash", actor="admin", now=NOW)
        s.principals.add_team("devs", actor="admin", now=NOW)
        s.principals.add_member("devs", "alice", now=NOW)
        s.principals.grant(USER, "alice", "admin", actor="admin", now=NOW)
        s.principals.add_token(token("alice")[0])
        raise RuntimeError("crash mid-way")
    with metadata.reader() as s:
        assert s.principals.user("alice") is None
        assert s.principals.count_users() == 0
        assert s.principals.teams() == []
        assert s.principals.all_grants() == []
        assert s.principals.tokens() == []
    with metadata.session() as s:  # and the name is free
        s.principals.add_user("alice", USER, None, actor="admin", now=NOW)


# failed logins: counted in the database, so that every worker and server shares one count


def test_login_failures_are_counted_per_key_within_a_window(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        s.principals.add_login_failures(["name:erin", "source:10.0.0.1"], at=NOW)
        s.principals.add_login_failures(["name:erin", "source:10.0.0.2"], at=NOW + timedelta(minutes=1))
        s.principals.add_login_failures(["name:erin"], at=NOW + timedelta(minutes=2))
    with metadata.reader() as s:
        assert s.principals.login_failures("name:erin", since=NOW) == (3, NOW)
        assert s.principals.login_failures("name:erin", since=NOW + timedelta(seconds=1)) == (2, NOW + timedelta(minutes=1))
        assert s.principals.login_failures("source:10.0.0.1", since=NOW) == (1, NOW)
        assert s.principals.login_failures("name:nobody", since=NOW) == (0, None)
    with metadata.session() as s:
        s.principals.clear_login_failures("name:erin")  # a successful login
    with metadata.reader() as s:
        assert s.principals.login_failures("name:erin", since=NOW) == (0, None)
        assert s.principals.login_failures("source:10.0.0.2", since=NOW) == (1, NOW + timedelta(minutes=1))


def test_old_login_failures_are_pruned(metadata: SqlMetadataStore) -> None:
    with metadata.session() as s:
        for minute in range(4):
            s.principals.add_login_failures([f"name:u{minute}", "source:10.0.0.1"], at=NOW + timedelta(minutes=minute))
    with metadata.session() as s:
        assert s.principals.prune_login_failures(before=NOW + timedelta(minutes=2)) == 4  # u0, u1 and 2 of the source
    with metadata.reader() as s:
        assert s.principals.login_failures("source:10.0.0.1", since=NOW) == (2, NOW + timedelta(minutes=2))
        assert s.principals.login_failures("name:u1", since=NOW) == (0, None)


def test_the_login_failures_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.downgrade(alembic_config(engine), "0007-1")
        assert "login_failures" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert "login_failures" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
