"""Authentication: the ``Authenticator`` port the HTTP edge calls (passwords with their throttle,
API tokens with their short per-process cache, anonymous), and the first administrator.

Secrets: passwords are checked by the ``PasswordHasher`` (argon2id), tokens by their sha256, every
comparison constant-time (``hmac.compare_digest`` or the hasher's own). No secret goes into an
error message, a log line or an audit event: failures name the claimed user, the source address
and why, never what was sent.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from hoist.domain.access import AccessPolicy, Permissions
from hoist.domain.errors import InvalidInput, TooManyAttempts, Unauthenticated
from hoist.domain.events import Action, EventDraft
from hoist.domain.models import Actor
from hoist.domain.ports import MetadataSession, MetadataStore, PasswordHasher
from hoist.domain.principals import TOKEN_PREFIX, PrincipalKind, Token, User, new_token, token_hash
from hoist.services.base import Clock, retrying, utcnow

# usernames that say "the password is an API token": docker login -u token; twine/pip (PyPI convention)
TOKEN_USERNAMES = frozenset({"token", "__token__"})

ADMIN = "admin"
ANONYMOUS = "anonymous"
TOKEN_CACHE_SECONDS = 2.0


class Throttle:
    """Failed password logins per claimed name (``limit`` of them) and per source address
    (``source_limit``) within ``window``: past that, attempts are refused until the oldest failure
    leaves the window. Counted in the metadata database, so one count holds for every worker and
    server; a failure recorded prunes those already out of the window, so the table stays small."""

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=5), source_limit: int = 30) -> None:
        self.limit = limit
        self.source_limit = source_limit
        self.window = window

    @staticmethod
    def keys(claimed: str, source: str | None) -> tuple[str, str]:
        return f"name:{_printable(claimed)}", f"source:{source}"

    def wait(self, s: MetadataSession, keys: Sequence[str], now: datetime) -> tuple[int, bool]:
        """(seconds until these keys may try again, 0 when they may now; whether any failure of the
        name is on record, for a success to clear)."""
        waits, on_record = [], False
        for key in keys:
            count, oldest = s.principals.login_failures(key, since=now - self.window)
            on_record = on_record or (count > 0 and key == keys[0])
            if oldest is not None and count >= self._limit(key):
                waits.append(int((oldest + self.window - now).total_seconds()) + 1)
        return max(waits, default=0), on_record

    def _limit(self, key: str) -> int:
        return self.source_limit if key.startswith("source:") else self.limit

    def fail(self, s: MetadataSession, keys: Sequence[str], now: datetime) -> None:
        s.principals.prune_login_failures(before=now - self.window)
        s.principals.add_login_failures(keys, at=now)


class Authentication:
    """Who a credential proves. Resolved API tokens are cached ``TOKEN_CACHE_SECONDS`` per process:
    ``forget`` (called by administration after every change to principals) drops them here at once,
    other processes see a change within that bound (the cached actor, its grants and its owner's
    state included)."""

    def __init__(
        self,
        metadata: MetadataStore,
        access: AccessPolicy,
        hasher: PasswordHasher,
        clock: Clock = utcnow,
        throttle: Throttle | None = None,
    ) -> None:
        self._metadata = metadata
        self.access = access
        self._hasher = hasher
        self._clock = clock
        self._throttle = throttle or Throttle()
        # token sha256 -> (monotonic deadline, token expiry, actor): API tokens sent on every request
        # (scripts, wrk, twine) cost a database read only once every TOKEN_CACHE_SECONDS
        self._recent: dict[str, tuple[float, datetime | None, Actor]] = {}

    def anonymous(self, source: str | None) -> Actor:
        return Actor(ANONYMOUS, "anonymous", False, source, self.access.anonymous())

    def authenticate(self, username: str, secret: str, source: str | None) -> Actor:
        """A password, or a token sent as the password with its owner's name, ``token``
        (``docker login -u token -p TOKEN``) or ``__token__`` (twine's and pip's convention)."""
        claimed = username.strip()[:64] or ANONYMOUS
        if secret.startswith(TOKEN_PREFIX):
            actor = self.authenticate_token(secret, source)
            if claimed not in {actor.name, *TOKEN_USERNAMES}:
                self._failed(claimed, source, "token", f"the token belongs to another principal ({actor.name})")
                raise Unauthenticated(
                    "this token does not belong to that username (use the token owner's name, 'token' or '__token__')"
                )
            return actor
        keys = self._throttle.keys(claimed, source)
        now = self._clock()
        with self._metadata.reader() as s:
            wait, failed_before = self._throttle.wait(s, keys, now)
            # no principal's name holds a control character, and PostgreSQL refuses a NUL in a query
            user = s.principals.user(claimed) if claimed.isprintable() else None
            grants = s.principals.effective_grants(claimed) if user else ()
        if wait:
            self._failed(claimed, source, "password", "throttled after repeated failures")
            raise TooManyAttempts(f"too many failed logins: try again in {wait} s", retry_after=wait)
        ok = self._hasher.verify(user.password_hash if user else None, secret)  # same time for unknown names
        if not ok or user is None or user.disabled:
            why = "unknown user" if user is None else "disabled" if user.disabled and ok else "wrong password"
            self._failed(claimed, source, "password", why, throttled=keys)
            raise Unauthenticated("these credentials are not valid")
        if failed_before:
            with self._metadata.session() as s:
                s.principals.clear_login_failures(keys[0])
        return self._actor(user, grants, None, source, "password")

    def recent(self, username: str | None, secret: str, source: str | None) -> Actor | None:
        """No database, no hashing of passwords: callers on an event loop try this first."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        cached = self._recent.get(token_hash(secret))
        if cached is None or time.monotonic() >= cached[0] or (cached[1] is not None and self._clock() >= cached[1]):
            return None
        actor = cached[2]
        if username is not None and username.strip()[:64] not in {actor.name, *TOKEN_USERNAMES}:
            return None  # ``authenticate`` refuses it, audited
        return replace(actor, source=source)

    def authenticate_token(self, token: str, source: str | None) -> Actor:
        found = self.recent(None, token, source)
        if found is not None:
            return found
        digest = token_hash(token)
        now = self._clock()
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

    def forget(self) -> None:
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

    def _failed(
        self, claimed: str, source: str | None, method: str, reason: str, *, throttled: Sequence[str] = (), **extra: str
    ) -> None:
        """Audit a failed authentication; with ``throttled``, count it against those keys in the
        same unit of work."""
        details = {"source": source, "method": method, "reason": reason, **extra}
        draft = EventDraft(Action.AUTH_FAILED, actor=_printable(claimed), subject="auth", details=details)

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                now = self._clock()
                if throttled:
                    self._throttle.fail(s, throttled, now)
                s.audit.append(draft, now=now)

        retrying(unit_of_work)

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


def _printable(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)[:64] or ANONYMOUS
