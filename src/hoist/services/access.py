"""Principals and their rights: authentication (the ``Authenticator`` port the HTTP edge calls),
the first administrator, users, robots, teams, grants and API tokens.

Secrets: passwords are hashed by the ``PasswordHasher`` (argon2id), tokens are kept as their
sha256 and shown once. Every comparison of a secret is constant-time (``hmac.compare_digest`` or
the hasher's own). No secret goes into an error message, a log line or an audit event: failures
name the claimed user, the source address and why, never what was sent.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hoist.domain.access import AccessPolicy, Permission, Permissions, Right
from hoist.domain.errors import InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from hoist.domain.events import Action, EventDraft
from hoist.domain.models import Actor
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataSession, MetadataStore, PasswordHasher
from hoist.domain.principals import TOKEN_PREFIX, PrincipalKind, Token, User, new_token, token_hash
from hoist.services.base import Clock, record_refusal, retrying, utcnow
from hoist.services.guard import Guard

ADMIN = "admin"
ANONYMOUS = "anonymous"
MIN_PASSWORD = 12
MAX_TOKEN_DAYS = 3650
TOKEN_CACHE_SECONDS = 2.0
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


class Throttle:
    """Failed password logins per claimed name (``name:``, ``limit`` of them) and per source address
    (``source:``, ``source_limit``): past that many failures within ``window`` seconds, further
    attempts are refused until the oldest failure ages out. Kept per server process (each worker
    counts its own), so a cluster of N workers allows N times as many."""

    def __init__(self, limit: int = 5, window: float = 300.0, clock: Any = time.monotonic, source_limit: int = 30) -> None:
        self.limit = limit
        self.source_limit = source_limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def wait(self, *keys: str) -> int:
        """Seconds until these keys may try again; 0 when they may now."""
        now = self._clock()
        with self._lock:
            waits = [int(f[0] + self.window - now) + 1 for k in keys if len(f := self._recent(k, now)) >= self._limit(k)]
        return max(waits, default=0)

    def _limit(self, key: str) -> int:
        return self.source_limit if key.startswith("source:") else self.limit

    def fail(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)
            if len(self._failures) > 100_000:  # bounded memory under a spray of names
                self._failures = {k: v for k, v in self._failures.items() if v}

    def succeed(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: Token
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class UserView:
    user: User
    teams: tuple[str, ...]
    grants: tuple[str, ...]
    permissions: list[str]


class AccessService:
    def __init__(
        self,
        metadata: MetadataStore,
        policy: Policy,
        access: AccessPolicy,
        hasher: PasswordHasher,
        guard: Guard,
        clock: Clock = utcnow,
        throttle: Throttle | None = None,
    ) -> None:
        self._metadata = metadata
        self._policy = policy
        self.access = access
        self._hasher = hasher
        self._guard = guard
        self._clock = clock
        self._throttle = throttle or Throttle()
        # token sha256 -> (monotonic deadline, token expiry, actor): API tokens sent on every request
        # (scripts, wrk, twine) cost a database read only once every TOKEN_CACHE_SECONDS
        self._recent: dict[str, tuple[float, datetime | None, Actor]] = {}

    def now(self) -> datetime:
        return self._clock()

    # -- authentication (the Authenticator port) ----------------------------------------------

    def anonymous(self, source: str | None) -> Actor:
        return Actor(ANONYMOUS, "anonymous", False, source, self.access.anonymous())

    def authenticate(self, username: str, secret: str, source: str | None) -> Actor:
        """A password, or a token sent as the password (``docker login -u NAME -p TOKEN``)."""
        claimed = username.strip()[:64] or ANONYMOUS
        if secret.startswith(TOKEN_PREFIX):
            actor = self.authenticate_token(secret, source)
            if claimed not in {actor.name, "token"}:
                self._failed(claimed, source, "token", f"the token belongs to another principal ({actor.name})")
                raise Unauthenticated("this token does not belong to that username (use the token owner's name, or 'token')")
            return actor
        keys = (f"name:{claimed}", f"source:{source}")
        wait = self._throttle.wait(*keys)
        if wait:
            self._failed(claimed, source, "password", "throttled after repeated failures")
            raise TooManyAttempts(f"too many failed logins: try again in {wait} s", retry_after=wait)
        with self._metadata.reader() as s:
            user = s.principals.user(claimed)
            grants = s.principals.effective_grants(claimed) if user else ()
        ok = self._hasher.verify(user.password_hash if user else None, secret)  # same time for unknown names
        if not ok or user is None or user.disabled:
            self._throttle.fail(*keys)
            why = "unknown user" if user is None else "disabled" if user.disabled and ok else "wrong password"
            self._failed(claimed, source, "password", why)
            raise Unauthenticated("these credentials are not valid")
        self._throttle.succeed(keys[0])
        return self._actor(user, grants, None, source, "password")

    def authenticate_token(self, token: str, source: str | None) -> Actor:
        digest = token_hash(token)
        now = self._clock()
        cached = self._recent.get(digest)
        if cached is not None and time.monotonic() < cached[0] and (cached[1] is None or now < cached[1]):
            return replace(cached[2], source=source)
        with self._metadata.reader() as s:
            record = s.principals.token_by_hash(digest)
            user = s.principals.user(record.owner) if record else None
            grants = s.principals.effective_grants(record.owner) if record else ()
        if record is None or not hmac.compare_digest(record.secret_hash, digest):
            self._failed(ANONYMOUS, source, "token", "unknown token")
            raise Unauthenticated("this token is not valid: create one with `hoist token create`")
        state = record.state(now)
        if state != "active" or user is None or user.disabled:
            why = f"{state} token" if state != "active" else "owner disabled"
            self._failed(record.owner, source, "token", why, token=record.id)
            raise Unauthenticated(f"token {record.id} is {state if state != 'active' else 'of a disabled user'}")
        actor = self._actor(user, grants, record.scope, source, f"token:{record.id}")
        if len(self._recent) > 10_000:
            self._recent.clear()
        self._recent[digest] = (time.monotonic() + TOKEN_CACHE_SECONDS, record.expires_at, actor)
        return actor

    def _changed(self) -> None:
        """Principals changed: forget the tokens this process resolved (other processes within
        TOKEN_CACHE_SECONDS)."""
        self._recent.clear()

    def _actor(
        self, user: User, grants: Iterable[str], scope: tuple[str, ...] | None, source: str | None, credential: str
    ) -> Actor:
        permissions = Permissions(self.access.expand(grants))
        if scope is not None:
            permissions = permissions.narrowed(self.access.expand(scope))
        return Actor(user.name, user.kind.value, True, source, permissions, credential)

    def _failed(self, claimed: str, source: str | None, method: str, reason: str, **extra: str) -> None:
        details = {"source": source, "method": method, "reason": reason, **extra}
        record_refusal(
            self._metadata,
            EventDraft(Action.AUTH_FAILED, actor=_printable(claimed), subject="auth", details=details),
            self._clock,
        )

    # -- the first administrator ---------------------------------------------------------------

    def bootstrap(self, token: str | None = None) -> str | None:
        """On an empty database: user ``admin`` with the admin role and a token, returned to be shown
        once (``token`` when given, e.g. HOIST_ADMIN_TOKEN). None when principals already exist."""
        if token is not None and (not token.startswith(TOKEN_PREFIX) or len(token) < len(TOKEN_PREFIX) + 32):
            raise InvalidInput(f"HOIST_ADMIN_TOKEN must start with {TOKEN_PREFIX!r} and carry at least 32 random characters")

        def unit_of_work() -> str | None:
            with self._metadata.session() as s:
                if s.principals.count_users():
                    return None
                now = self._clock()
                token_id, secret, digest = new_token()
                if token is not None:
                    secret, digest = token, token_hash(token)
                s.principals.add_user(ADMIN, PrincipalKind.USER, None, actor="hoist", now=now)
                s.principals.grant(PrincipalKind.USER, ADMIN, "role:admin", actor="hoist", now=now)
                s.principals.add_token(Token(token_id, ADMIN, "bootstrap", digest, None, now, "hoist", None, None))
                s.audit.append(
                    EventDraft(Action.BOOTSTRAP, actor="hoist", subject=f"user:{ADMIN}", details={"token": token_id}),
                    now=now,
                )
                return secret

        return retrying(unit_of_work)

    # -- who am I, tokens --------------------------------------------------------------------------

    def whoami(self, actor: Actor) -> dict[str, Any]:
        return {
            "name": actor.name,
            "kind": actor.kind,
            "authenticated": actor.authenticated,
            "credential": actor.credential,
            "permissions": actor.permissions.listing(self._policy.registries, [e.name for e in self._policy.environments]),
        }

    def create_token(
        self,
        actor: Actor,
        *,
        owner: str | None = None,
        description: str = "",
        scope: list[str] | None = None,
        expires_in_days: int | None = 90,
    ) -> CreatedToken:
        owner = owner or actor.name
        if owner != actor.name:
            self._guard.require(actor, Right.ADMIN, asked=f"create a token for {owner}", subject=f"user:{owner}")
        elif not actor.authenticated:
            self._guard.deny(actor, [], asked="create a token", subject="token")
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidInput(f"a token expires in 1 to {MAX_TOKEN_DAYS} days (or never)")
        if len(description) > 200:
            raise InvalidInput("a token description has at most 200 characters")
        stored_scope = tuple(self._check_grants(scope)) if scope is not None else None
        if stored_scope is not None and not stored_scope:
            raise InvalidInput("a token scope needs at least one role or permission")
        limit = actor.permissions.limit
        if limit is not None and owner == actor.name:
            # made with a scoped token: the new token is never wider than the one that made it
            wanted = self.access.expand(stored_scope) if stored_scope is not None else limit
            narrowed = actor.permissions.narrowed(wanted).limit or frozenset()
            if not narrowed:
                raise InvalidInput("that scope is outside the scope of the token you are using")
            stored_scope = tuple(sorted(str(p) for p in narrowed))
        if stored_scope is not None:
            self._require_held(actor, owner, stored_scope)

        def unit_of_work() -> CreatedToken:
            with self._metadata.session() as s:
                user = s.principals.user(owner)
                if user is None:
                    raise NotFound(f"unknown user {owner!r}", user=owner)
                now = self._clock()
                token_id, secret, digest = new_token()
                expires = now + timedelta(days=expires_in_days) if expires_in_days is not None else None
                token = Token(token_id, owner, description, digest, stored_scope, now, actor.name, expires, None)
                s.principals.add_token(token)
                details = {"token": token_id, "scope": list(stored_scope) if stored_scope else None}
                details["expires_at"] = expires.isoformat() if expires else None
                s.audit.append(
                    EventDraft(Action.TOKEN_CREATE, actor=actor.name, subject=f"user:{owner}", details=details), now=now
                )
                return CreatedToken(token, secret)

        return retrying(unit_of_work)

    def _require_held(self, actor: Actor, owner: str, scope: Iterable[str]) -> None:
        """A scope names only what the owner holds: a wider one would make a token that silently
        does less than it says (a scope narrows, it never grants)."""
        with self._metadata.reader() as s:
            if s.principals.user(owner) is None:
                raise NotFound(f"unknown user {owner!r}", user=owner)
            held = Permissions(self.access.expand(s.principals.effective_grants(owner)))
        lacking = {g: sorted(p for p in self.access.expand([g]) if not held.holds(p)) for g in scope}
        lacking = {g: ps for g, ps in lacking.items() if ps}
        if lacking:
            needed = sorted({p for ps in lacking.values() for p in ps}, key=str)
            self._guard.deny(
                actor,
                needed,
                asked=f"create a token for {owner} with scope {', '.join(scope)}",
                subject=f"user:{owner}",
                why=f"{owner} does not hold {', '.join(lacking)}",
            )

    def tokens(self, actor: Actor, *, owner: str | None = None, every: bool = False) -> list[Token]:
        if every or (owner and owner != actor.name):
            self._guard.require(actor, Right.ADMIN, asked="list other principals' tokens", subject="tokens")
        elif not actor.authenticated:
            self._guard.deny(actor, [], asked="list tokens", subject="tokens")
        with self._metadata.reader() as s:
            return list(s.principals.tokens(None if every else owner or actor.name))

    def revoke_token(self, actor: Actor, token_id: str) -> Token:
        """Your own token, or (administrators) anyone's. A token's owner never changes, so who may
        revoke it is decided before the unit of work (a denial is audited in one of its own)."""
        with self._metadata.reader() as s:
            found = s.principals.token(token_id)
        if found is None:
            raise NotFound(f"unknown token {token_id!r}", token=token_id)
        if found.owner != actor.name or not actor.authenticated:
            self._guard.require(actor, Right.ADMIN, asked=f"revoke token {token_id}", subject="tokens")

        def unit_of_work() -> Token:
            with self._metadata.session() as s:
                token = s.principals.token(token_id)
                assert token is not None  # tokens are never deleted
                if token.revoked_at is not None:
                    return token
                now = self._clock()
                s.principals.revoke_token(token_id, now=now)
                draft = EventDraft(
                    Action.TOKEN_REVOKE, actor=actor.name, subject=f"user:{token.owner}", details={"token": token_id}
                )
                s.audit.append(draft, now=now)
                revoked = s.principals.token(token_id)
                assert revoked is not None
                return revoked

        result = retrying(unit_of_work)
        self._changed()
        return result

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
        permissions = Permissions(self.access.expand(s.principals.effective_grants(name)))
        listing = permissions.listing(self._policy.registries, [e.name for e in self._policy.environments])
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

    def teams(self, actor: Actor) -> list[dict[str, Any]]:
        self._guard.require_any(
            actor, [Permission(Right.ADMIN), Permission(Right.AUDIT)], asked="list teams", subject="teams"
        )
        with self._metadata.reader() as s:
            return [
                {"name": t, "members": list(m), "grants": list(s.principals.grants_of(PrincipalKind.TEAM, t))}
                for t, m in s.principals.teams()
            ]

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

    def show(self, actor: Actor) -> dict[str, Any]:
        """Roles, which registries anyone may read, and (for administrators and auditors) every
        principal with its grants and the permissions they add up to."""
        registries, environments = self._policy.registries, [e.name for e in self._policy.environments]
        report: dict[str, Any] = {
            "roles": [
                {"name": r.name, "description": r.description, "permissions": [str(p) for p in r.permissions]}
                for r in self.access.roles.values()
            ],
            "anonymous_read": sorted(self.access.anonymous_read),
            "you": self.whoami(actor),
        }
        if actor.may(Right.ADMIN) or actor.may(Right.AUDIT):
            with self._metadata.reader() as s:
                report["users"] = [user_out(self._view(s, u.name)) for u in s.principals.users()]
                report["teams"] = [
                    {
                        "name": t,
                        "members": list(m),
                        "grants": list(s.principals.grants_of(PrincipalKind.TEAM, t)),
                        "permissions": Permissions(
                            self.access.expand(s.principals.grants_of(PrincipalKind.TEAM, t))
                        ).listing(registries, environments),
                    }
                    for t, m in s.principals.teams()
                ]
        return report

    def _check_grants(self, grants: Iterable[str]) -> list[str]:
        environments = [e.name for e in self._policy.environments]
        out = [self.access.check_grant(g.strip(), self._policy.registries, environments) for g in grants]
        if len(out) > 100:
            raise InvalidInput("at most 100 grants at once")
        return sorted(set(out))


def user_out(view: UserView) -> dict[str, Any]:
    u = view.user
    return {
        "name": u.name,
        "kind": u.kind.value,
        "disabled": u.disabled,
        "password": u.password_hash is not None,
        "created_at": u.created_at.isoformat(),
        "created_by": u.created_by,
        "teams": list(view.teams),
        "grants": list(view.grants),
        "permissions": view.permissions,
    }


def token_out(token: Token, now: datetime) -> dict[str, Any]:
    return {
        "id": token.id,
        "owner": token.owner,
        "description": token.description,
        "scope": list(token.scope) if token.scope is not None else None,
        "created_at": token.created_at.isoformat(),
        "created_by": token.created_by,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "state": token.state(now),
    }


def _checked_password(password: str | None) -> str:
    if password is None or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InvalidInput("a password has at most 1024 characters")
    return password


def _printable(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)[:64] or ANONYMOUS
