"""Users, teams and API tokens, as the metadata store keeps them, and the port it keeps them behind.

Secrets never appear here in clear: a user carries its password hash (argon2id, made by the
``PasswordHasher`` port) and a token its sha256 (tokens are 256-bit random values, so a fast hash
is the right one: nothing to brute-force). Grants are stored in their written form: ``role:NAME``
or a permission such as ``push:dev`` (see ``domain.access``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

TOKEN_PREFIX = "hoist_"  # noqa: S105 - so that secret scanners can recognise a leaked token


class PrincipalKind(StrEnum):
    USER = "user"
    ROBOT = "robot"  # a CI identity: authenticates with tokens only
    TEAM = "team"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    kind: PrincipalKind  # USER or ROBOT
    password_hash: str | None
    disabled: bool
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class Token:
    id: str  # public: names the token in lists, revocations and audit events
    owner: str
    description: str
    secret_hash: str  # sha256 hex of the whole token string
    scope: tuple[str, ...] | None  # None: everything the owner holds
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def new_token() -> tuple[str, str, str]:
    """(id, token, sha256 of the token): the token is shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secrets.token_hex(6), token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PrincipalRepository(Protocol):
    # users and robots
    def add_user(self, name: str, kind: PrincipalKind, password_hash: str | None, *, actor: str, now: datetime) -> User:
        """Raises ``Conflict`` when the name is taken by a user, robot or team."""
        ...

    def user(self, name: str) -> User | None: ...

    def users(self) -> Sequence[User]: ...

    def count_users(self) -> int: ...

    def set_password(self, name: str, password_hash: str) -> bool: ...

    def set_disabled(self, name: str, disabled: bool) -> bool: ...

    # teams
    def add_team(self, name: str, *, actor: str, now: datetime) -> None:
        """Raises ``Conflict`` when the name is taken by a user, robot or team."""
        ...

    def team_exists(self, name: str) -> bool: ...

    def teams(self) -> Sequence[tuple[str, tuple[str, ...]]]:
        """(team, its members sorted), sorted by team."""
        ...

    def delete_team(self, name: str) -> bool:
        """Removes the team, its memberships and its grants."""
        ...

    def add_member(self, team: str, user: str, *, now: datetime) -> bool:
        """False when already a member."""
        ...

    def remove_member(self, team: str, user: str) -> bool: ...

    def teams_of(self, user: str) -> tuple[str, ...]: ...

    # grants: PrincipalKind.USER covers robots too (one namespace of names)
    def grant(self, kind: PrincipalKind, name: str, grant: str, *, actor: str, now: datetime) -> bool:
        """False when already granted."""
        ...

    def revoke(self, kind: PrincipalKind, name: str, grant: str) -> bool: ...

    def grants_of(self, kind: PrincipalKind, name: str) -> tuple[str, ...]:
        """The grants given to this user or team itself, sorted."""
        ...

    def effective_grants(self, user: str) -> tuple[str, ...]:
        """The user's own grants and those of every team it belongs to, deduplicated, sorted."""
        ...

    def all_grants(self) -> Sequence[tuple[PrincipalKind, str, str]]:
        """Every (kind, principal, grant), sorted."""
        ...

    # tokens
    def add_token(self, token: Token) -> None: ...

    def token_by_hash(self, secret_hash: str) -> Token | None: ...

    def token(self, token_id: str) -> Token | None: ...

    def tokens(self, owner: str | None = None) -> Sequence[Token]:
        """Newest first; every owner's when ``owner`` is None."""
        ...

    def revoke_token(self, token_id: str, *, now: datetime) -> bool:
        """False when unknown or already revoked."""
        ...

    # failed password logins, by throttle key (``name:<claimed>``, ``source:<address>``)
    def add_login_failures(self, keys: Sequence[str], *, at: datetime) -> None: ...

    def login_failures(self, key: str, *, since: datetime) -> tuple[int, datetime | None]:
        """How many failures of ``key`` happened at or after ``since``, and the oldest of them."""
        ...

    def clear_login_failures(self, key: str) -> None: ...

    def prune_login_failures(self, *, before: datetime) -> int:
        """Forget every failure older than ``before``; how many were forgotten."""
        ...
