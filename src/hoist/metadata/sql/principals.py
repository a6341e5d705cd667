"""SQL implementation of the principals: users and robots, teams and their members, grants, API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hoist.domain.errors import Conflict, NotFound
from hoist.domain.principals import PrincipalKind, Token, User
from hoist.metadata.sql.tables import GrantRow, LoginFailureRow, TeamMemberRow, TeamRow, TokenRow, UserRow


def _user(row: UserRow) -> User:
    return User(
        name=row.name,
        kind=PrincipalKind(row.kind),
        password_hash=row.password_hash,
        disabled=row.disabled,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _token(row: TokenRow) -> Token:
    return Token(
        id=row.id,
        owner=row.owner,
        description=row.description,
        secret_hash=row.secret_hash,
        scope=None if row.scope is None else tuple(row.scope),
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _grantee(kind: PrincipalKind) -> str:
    """How grants name the kind of their principal: robots are granted as users (one namespace)."""
    return PrincipalKind.TEAM.value if kind is PrincipalKind.TEAM else PrincipalKind.USER.value


class SqlPrincipals:
    def __init__(self, session: Session) -> None:
        self._s = session

    # names: users, robots and teams share one namespace

    def _holder(self, name: str) -> str | None:
        """What holds this name ("user", "robot", "team"), if anything does."""
        kind = self._s.execute(select(UserRow.kind).where(UserRow.name == name)).scalar_one_or_none()
        if kind is not None:
            return kind
        return "team" if self.team_exists(name) else None

    def _claim(self, name: str, row: UserRow | TeamRow) -> None:
        holder = self._holder(name)
        if holder is not None:
            raise Conflict(f"{holder} {name!r} already exists", name=name, kind=holder)
        try:
            # a savepoint: a concurrent unit of work that took the name first (PostgreSQL lets both
            # see it free) fails this insert alone, and the session stays usable
            with self._s.begin_nested():
                self._s.add(row)
        except IntegrityError as exc:
            # the winner has committed (the insert waited for it): name what it added
            holder = self._holder(name) or (row.kind if isinstance(row, UserRow) else "team")
            raise Conflict(f"{holder} {name!r} already exists", name=name, kind=holder) from exc

    # users and robots

    def add_user(self, name: str, kind: PrincipalKind, password_hash: str | None, *, actor: str, now: datetime) -> User:
        if kind is PrincipalKind.TEAM:
            raise ValueError("a team is added with add_team")
        row = UserRow(
            name=name, kind=kind.value, password_hash=password_hash, disabled=False, created_at=now, created_by=actor
        )
        self._claim(name, row)
        return _user(row)

    def user(self, name: str) -> User | None:
        row = self._s.get(UserRow, name)
        return _user(row) if row else None

    def users(self) -> Sequence[User]:
        return sorted((_user(r) for r in self._s.execute(select(UserRow)).scalars()), key=lambda u: u.name)

    def count_users(self) -> int:
        return self._s.execute(select(func.count()).select_from(UserRow)).scalar_one()

    def set_password(self, name: str, password_hash: str) -> bool:
        changed = self._s.execute(update(UserRow).where(UserRow.name == name).values(password_hash=password_hash))
        return bool(changed.rowcount)  # type: ignore[attr-defined]

    def set_disabled(self, name: str, disabled: bool) -> bool:
        changed = self._s.execute(update(UserRow).where(UserRow.name == name).values(disabled=disabled))
        return bool(changed.rowcount)  # type: ignore[attr-defined]

    # teams

    def add_team(self, name: str, *, actor: str, now: datetime) -> None:
        self._claim(name, TeamRow(name=name, created_at=now, created_by=actor))

    def team_exists(self, name: str) -> bool:
        return bool(self._s.execute(select(exists().where(TeamRow.name == name))).scalar())

    def teams(self) -> Sequence[tuple[str, tuple[str, ...]]]:
        rows = self._s.execute(
            select(TeamRow.name, TeamMemberRow.user).outerjoin(TeamMemberRow, TeamMemberRow.team == TeamRow.name)
        )
        members: dict[str, list[str]] = {}
        for team, user in rows:
            listed = members.setdefault(team, [])
            if user is not None:
                listed.append(user)
        return [(team, tuple(sorted(users))) for team, users in sorted(members.items())]

    def delete_team(self, name: str) -> bool:
        self._s.execute(delete(TeamMemberRow).where(TeamMemberRow.team == name))
        self._s.execute(
            delete(GrantRow).where(GrantRow.principal_kind == PrincipalKind.TEAM.value, GrantRow.principal == name)
        )
        removed = self._s.execute(delete(TeamRow).where(TeamRow.name == name))
        return bool(removed.rowcount)  # type: ignore[attr-defined]

    def add_member(self, team: str, user: str, *, now: datetime) -> bool:
        if not self.team_exists(team):
            raise NotFound(f"no team {team!r}", team=team)
        if self._s.get(UserRow, user) is None:
            raise NotFound(f"no user or robot {user!r}", user=user)
        if self._s.get(TeamMemberRow, (team, user)) is not None:
            return False
        self._s.add(TeamMemberRow(team=team, user=user, created_at=now))
        self._s.flush()
        return True

    def remove_member(self, team: str, user: str) -> bool:
        removed = self._s.execute(delete(TeamMemberRow).where(TeamMemberRow.team == team, TeamMemberRow.user == user))
        return bool(removed.rowcount)  # type: ignore[attr-defined]

    def teams_of(self, user: str) -> tuple[str, ...]:
        return tuple(sorted(self._s.execute(select(TeamMemberRow.team).where(TeamMemberRow.user == user)).scalars()))

    # grants (sorted in Python: PostgreSQL's collation need not order strings as SQLite and Python do)

    def grant(self, kind: PrincipalKind, name: str, grant: str, *, actor: str, now: datetime) -> bool:
        if self._has_grant(_grantee(kind), name, grant):
            return False
        self._s.add(GrantRow(principal_kind=_grantee(kind), principal=name, grant=grant, created_at=now, created_by=actor))
        self._s.flush()
        return True

    def _has_grant(self, kind: str, name: str, grant: str) -> bool:
        return bool(
            self._s.execute(
                select(exists().where(GrantRow.principal_kind == kind, GrantRow.principal == name, GrantRow.grant == grant))
            ).scalar()
        )

    def revoke(self, kind: PrincipalKind, name: str, grant: str) -> bool:
        removed = self._s.execute(
            delete(GrantRow).where(
                GrantRow.principal_kind == _grantee(kind), GrantRow.principal == name, GrantRow.grant == grant
            )
        )
        return bool(removed.rowcount)  # type: ignore[attr-defined]

    def grants_of(self, kind: PrincipalKind, name: str) -> tuple[str, ...]:
        rows = self._s.execute(
            select(GrantRow.grant).where(GrantRow.principal_kind == _grantee(kind), GrantRow.principal == name)
        )
        return tuple(sorted(rows.scalars()))

    def effective_grants(self, user: str) -> tuple[str, ...]:
        own = select(GrantRow.grant).where(GrantRow.principal_kind == PrincipalKind.USER.value, GrantRow.principal == user)
        through_teams = (
            select(GrantRow.grant)
            .join(
                TeamMemberRow,
                and_(GrantRow.principal_kind == PrincipalKind.TEAM.value, GrantRow.principal == TeamMemberRow.team),
            )
            .where(TeamMemberRow.user == user)
        )
        return tuple(sorted(self._s.execute(union(own, through_teams)).scalars()))  # UNION removes duplicates

    def all_grants(self) -> Sequence[tuple[PrincipalKind, str, str]]:
        rows = self._s.execute(select(GrantRow.principal_kind, GrantRow.principal, GrantRow.grant))
        return sorted((PrincipalKind(kind), name, grant) for kind, name, grant in rows)

    # tokens

    def add_token(self, token: Token) -> None:
        if self._s.get(UserRow, token.owner) is None:
            raise NotFound(f"no user or robot {token.owner!r} to own a token", user=token.owner)
        self._s.add(
            TokenRow(
                id=token.id,
                owner=token.owner,
                description=token.description,
                secret_hash=token.secret_hash,
                scope=None if token.scope is None else list(token.scope),
                created_at=token.created_at,
                created_by=token.created_by,
                expires_at=token.expires_at,
                revoked_at=token.revoked_at,
            )
        )
        self._s.flush()

    def token_by_hash(self, secret_hash: str) -> Token | None:
        row = self._s.execute(select(TokenRow).where(TokenRow.secret_hash == secret_hash)).scalar_one_or_none()
        return _token(row) if row else None

    def token(self, token_id: str) -> Token | None:
        row = self._s.get(TokenRow, token_id)
        return _token(row) if row else None

    def tokens(self, owner: str | None = None) -> Sequence[Token]:
        query = select(TokenRow).order_by(TokenRow.created_at.desc(), TokenRow.id.desc())
        if owner is not None:
            query = query.where(TokenRow.owner == owner)
        return [_token(r) for r in self._s.execute(query).scalars()]

    def revoke_token(self, token_id: str, *, now: datetime) -> bool:
        changed = self._s.execute(
            update(TokenRow).where(TokenRow.id == token_id, TokenRow.revoked_at.is_(None)).values(revoked_at=now)
        )
        return bool(changed.rowcount)  # type: ignore[attr-defined]

    # failed password logins

    def add_login_failures(self, keys: Sequence[str], *, at: datetime) -> None:
        self._s.add_all(LoginFailureRow(key=key, failed_at=at) for key in keys)
        self._s.flush()

    def login_failures(self, key: str, *, since: datetime) -> tuple[int, datetime | None]:
        count, oldest = self._s.execute(
            select(func.count(), func.min(LoginFailureRow.failed_at)).where(
                LoginFailureRow.key == key, LoginFailureRow.failed_at >= since
            )
        ).one()
        return count, oldest  # min() keeps the column's type: an aware UTC datetime on every backend

    def clear_login_failures(self, key: str) -> None:
        self._s.execute(delete(LoginFailureRow).where(LoginFailureRow.key == key))

    def prune_login_failures(self, *, before: datetime) -> int:
        removed = self._s.execute(delete(LoginFailureRow).where(LoginFailureRow.failed_at < before))
        return int(removed.rowcount)  # type: ignore[attr-defined]
