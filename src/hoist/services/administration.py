"""Administration of principals and their rights: users, robots, teams and grants, and what an
actor may see of them (who am I, the access report). API tokens: ``services.tokens``.

Passwords are hashed by the ``PasswordHasher`` (argon2id) before anything is stored. Every change
is audited inside its unit of work, and tells authentication (``on_change``) so that this process
forgets the tokens it resolved at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from hoist.domain.access import AccessPolicy, Permission, Permissions, Right, Role
from hoist.domain.errors import InvalidInput, NotFound, Unauthenticated
from hoist.domain.events import Action, EventDraft
from hoist.domain.models import Actor
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataSession, MetadataStore, PasswordHasher
from hoist.domain.principals import PrincipalKind, User
from hoist.services.authentication import ANONYMOUS
from hoist.services.base import Clock, retrying, utcnow
from hoist.services.guard import Guard

MIN_PASSWORD = 12
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")


def validate_principal_name(name: str, what: str = "user") -> str:
    if not _NAME.fullmatch(name or ""):
        raise InvalidInput(
            f"{what} name {name[:80]!r} is not valid: use 1-64 lowercase letters, digits and '.', '_', '-' "
            "(starting and ending with a letter or digit)",
            name=name[:80],
        )
    if name == ANONYMOUS:
        raise InvalidInput(f"{ANONYMOUS!r} is reserved for requests without credentials")
    return name


@dataclass(frozen=True, slots=True)
class UserView:
    user: User
    teams: tuple[str, ...]
    grants: tuple[str, ...]
    permissions: list[str]


@dataclass(frozen=True, slots=True)
class TeamView:
    name: str
    members: tuple[str, ...]
    grants: tuple[str, ...]
    permissions: list[str]


@dataclass(frozen=True, slots=True)
class Identity:
    actor: Actor
    permissions: list[str]  # every concrete permission held


@dataclass(frozen=True, slots=True)
class AccessReport:
    roles: Sequence[Role]
    anonymous_read: list[str]
    you: Identity
    users: list[UserView] | None  # None: only administrators and auditors see principals
    teams: list[TeamView] | None


class Administration:
    def __init__(
        self,
        metadata: MetadataStore,
        policy: Policy,
        access: AccessPolicy,
        hasher: PasswordHasher,
        guard: Guard,
        clock: Clock = utcnow,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._metadata = metadata
        self._policy = policy
        self.access = access
        self._hasher = hasher
        self._guard = guard
        self._clock = clock
        self._changed = on_change

    def now(self) -> datetime:
        return self._clock()

    # -- who am I, tokens --------------------------------------------------------------------------

    def whoami(self, actor: Actor) -> Identity:
        return Identity(actor, self._listing(actor.permissions))

    def _listing(self, permissions: Permissions) -> list[str]:
        return permissions.listing(self._policy.registries, [e.name for e in self._policy.environments])

    # -- users, robots, teams, grants (administrators) ----------------------------------------

    def create_user(
        self, actor: Actor, name: str, *, robot: bool = False, password: str | None = None, grants: list[str] | None = None
    ) -> UserView:
        self._guard.require(actor, Right.ADMIN, asked=f"create user {name[:64]}", subject=f"user:{name[:64]}")
        validate_principal_name(name)
        if robot and password:
            raise InvalidInput("a robot authenticates with tokens only: give it no password")
        hashed = self._hasher.hash(_checked_password(password)) if password else None
        checked = self._check_grants(grants or [])
        kind = PrincipalKind.ROBOT if robot else PrincipalKind.USER

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                now = self._clock()
                s.principals.add_user(name, kind, hashed, actor=actor.name, now=now)
                for g in checked:
                    s.principals.grant(PrincipalKind.USER, name, g, actor=actor.name, now=now)
                details = {"kind": kind.value, "grants": checked, "password": hashed is not None}
                s.audit.append(
                    EventDraft(Action.USER_CREATE, actor=actor.name, subject=f"user:{name}", details=details), now=now
                )

        retrying(unit_of_work)
        return self.user(actor, name)

    def user(self, actor: Actor, name: str) -> UserView:
        if name != actor.name:
            self._guard.require(actor, Right.ADMIN, asked=f"read user {name[:64]}", subject=f"user:{name[:64]}")
        with self._metadata.reader() as s:
            return self._view(s, name)

    def _view(self, s: MetadataSession, name: str) -> UserView:
        user = s.principals.user(name)
        if user is None:
            raise NotFound(f"unknown user {name!r}", user=name)
        listing = self._listing(Permissions(self.access.expand(s.principals.effective_grants(name))))
        return UserView(user, s.principals.teams_of(name), s.principals.grants_of(PrincipalKind.USER, name), listing)

    def users(self, actor: Actor) -> list[UserView]:
        self._guard.require(actor, Right.ADMIN, asked="list users", subject="users")
        with self._metadata.reader() as s:
            return [self._view(s, u.name) for u in s.principals.users()]

    def set_password(self, actor: Actor, name: str, password: str, *, current: str | None = None) -> None:
        if name != actor.name or not actor.authenticated:
            self._guard.require(actor, Right.ADMIN, asked=f"set the password of {name[:64]}", subject=f"user:{name[:64]}")
        hashed = self._hasher.hash(_checked_password(password))

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                user = s.principals.user(name)
                if user is None:
                    raise NotFound(f"unknown user {name!r}", user=name)
                if user.kind is PrincipalKind.ROBOT:
                    raise InvalidInput(f"{name} is a robot: robots authenticate with tokens only")
                own = name == actor.name and not actor.may(Right.ADMIN) and user.password_hash is not None
                if own and (current is None or not self._hasher.verify(user.password_hash, current)):
                    raise Unauthenticated("give your current password to change it")
                s.principals.set_password(name, hashed)
                s.audit.append(
                    EventDraft(
                        Action.USER_UPDATE, actor=actor.name, subject=f"user:{name}", details={"password": "changed"}
                    ),
                    now=self._clock(),
                )

        retrying(unit_of_work)
        self._changed()

    def set_disabled(self, actor: Actor, name: str, disabled: bool) -> UserView:
        self._guard.require(
            actor, Right.ADMIN, asked=f"{'disable' if disabled else 'enable'} user {name[:64]}", subject=f"user:{name[:64]}"
        )
        if disabled and name == actor.name:
            raise InvalidInput("you cannot disable yourself: ask another administrator")

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                if not s.principals.set_disabled(name, disabled):
                    raise NotFound(f"unknown user {name!r}", user=name)
                s.audit.append(
                    EventDraft(Action.USER_UPDATE, actor=actor.name, subject=f"user:{name}", details={"disabled": disabled}),
                    now=self._clock(),
                )

        retrying(unit_of_work)
        self._changed()
        return self.user(actor, name)

    def create_team(self, actor: Actor, name: str, *, grants: list[str] | None = None) -> None:
        self._guard.require(actor, Right.ADMIN, asked=f"create team {name[:64]}", subject=f"team:{name[:64]}")
        validate_principal_name(name, "team")
        checked = self._check_grants(grants or [])

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                now = self._clock()
                s.principals.add_team(name, actor=actor.name, now=now)
                for g in checked:
                    s.principals.grant(PrincipalKind.TEAM, name, g, actor=actor.name, now=now)
                s.audit.append(
                    EventDraft(Action.TEAM_CREATE, actor=actor.name, subject=f"team:{name}", details={"grants": checked}),
                    now=now,
                )

        retrying(unit_of_work)

    def delete_team(self, actor: Actor, name: str) -> None:
        self._guard.require(actor, Right.ADMIN, asked=f"delete team {name[:64]}", subject=f"team:{name[:64]}")

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                if not s.principals.delete_team(name):
                    raise NotFound(f"unknown team {name!r}", team=name)
                s.audit.append(EventDraft(Action.TEAM_DELETE, actor=actor.name, subject=f"team:{name}"), now=self._clock())

        retrying(unit_of_work)
        self._changed()

    def teams(self, actor: Actor) -> list[TeamView]:
        self._guard.require_any(
            actor, [Permission(Right.ADMIN), Permission(Right.AUDIT)], asked="list teams", subject="teams"
        )
        with self._metadata.reader() as s:
            return self._teams(s)

    def _teams(self, s: MetadataSession) -> list[TeamView]:
        views = []
        for team, members in s.principals.teams():
            grants = s.principals.grants_of(PrincipalKind.TEAM, team)
            views.append(TeamView(team, members, grants, self._listing(Permissions(self.access.expand(grants)))))
        return views

    def set_member(self, actor: Actor, team: str, user: str, *, member: bool) -> bool:
        verb = "add" if member else "remove"
        self._guard.require(actor, Right.ADMIN, asked=f"{verb} {user[:64]} in team {team[:64]}", subject=f"team:{team[:64]}")

        def unit_of_work() -> bool:
            with self._metadata.session() as s:
                if not s.principals.team_exists(team):
                    raise NotFound(f"unknown team {team!r}", team=team)
                if s.principals.user(user) is None:
                    raise NotFound(f"unknown user {user!r}", user=user)
                now = self._clock()
                changed = s.principals.add_member(team, user, now=now) if member else s.principals.remove_member(team, user)
                if changed:
                    action = Action.TEAM_ADD if member else Action.TEAM_REMOVE
                    s.audit.append(
                        EventDraft(action, actor=actor.name, subject=f"team:{team}", details={"user": user}), now=now
                    )
                return changed

        result = retrying(unit_of_work)
        self._changed()
        return result

    def set_grant(self, actor: Actor, kind: PrincipalKind, name: str, grant: str, *, granted: bool) -> bool:
        subject = f"{'team' if kind is PrincipalKind.TEAM else 'user'}:{name[:64]}"
        self._guard.require(
            actor, Right.ADMIN, asked=f"{'grant' if granted else 'revoke'} {grant[:80]} for {subject}", subject=subject
        )
        checked = self._check_grants([grant])[0] if granted else grant.strip()

        def unit_of_work() -> bool:
            with self._metadata.session() as s:
                exists = (
                    s.principals.team_exists(name) if kind is PrincipalKind.TEAM else s.principals.user(name) is not None
                )
                if not exists:
                    raise NotFound(f"unknown {subject.split(':', maxsplit=1)[0]} {name!r}", principal=name)
                now = self._clock()
                if granted:
                    changed = s.principals.grant(kind, name, checked, actor=actor.name, now=now)
                else:
                    changed = s.principals.revoke(kind, name, checked)
                if changed:
                    action = Action.GRANT if granted else Action.REVOKE
                    s.audit.append(
                        EventDraft(action, actor=actor.name, subject=subject, details={"grant": checked}), now=now
                    )
                return changed

        result = retrying(unit_of_work)
        self._changed()
        return result

    def show(self, actor: Actor) -> AccessReport:
        """Roles, which registries anyone may read, and (for administrators and auditors) every
        principal with its grants and the permissions they add up to."""
        users = teams = None
        if actor.may(Right.ADMIN) or actor.may(Right.AUDIT):
            with self._metadata.reader() as s:
                users = [self._view(s, u.name) for u in s.principals.users()]
                teams = self._teams(s)
        roles = list(self.access.roles.values())
        return AccessReport(roles, sorted(self.access.anonymous_read), self.whoami(actor), users, teams)

    def _check_grants(self, grants: Iterable[str]) -> list[str]:
        return checked_grants(self.access, self._policy, grants)


def checked_grants(access: AccessPolicy, policy: Policy, grants: Iterable[str]) -> list[str]:
    """Grants in their stored form, sorted and deduplicated; each must name a known role, registry
    or environment."""
    environments = [e.name for e in policy.environments]
    out = [access.check_grant(g.strip(), policy.registries, environments) for g in grants]
    if len(out) > 100:
        raise InvalidInput("at most 100 grants at once")
    return sorted(set(out))


def _checked_password(password: str | None) -> str:
    if password is None or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InvalidInput("a password has at most 1024 characters")
    return password
