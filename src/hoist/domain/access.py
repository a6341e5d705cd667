"""Who may do what: rights on registries and environments, roles that bundle them, and the
permissions an actor holds, as data checked by pure functions.

A permission is written the way ``hoist access`` shows it:

- ``RIGHT:REGISTRY`` for a registry right (``read``, ``push``, ``promote``, ``delete``, ``admin``),
  e.g. ``push:dev``; ``admin:dev`` holds every registry right on dev;
- ``RIGHT@ENVIRONMENT`` for an environment right (``deploy``, ``approve``), e.g. ``deploy@prod``;
- ``admin`` (the server administrator: holds every right, manages principals) or ``audit`` (reads
  the whole audit trail).

``*`` stands for every registry or environment. A role is a named list of permissions; principals
(users, teams, robots) are granted roles or single permissions, and a token carries its owner's
permissions narrowed to the token's scope: never more than the owner holds, at any time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from hoist.domain.errors import InvalidInput
from hoist.domain.names import clip

ANY = "*"


class Right(StrEnum):
    READ = "read"
    PUSH = "push"
    PROMOTE = "promote"
    DELETE = "delete"
    ADMIN = "admin"
    DEPLOY = "deploy"
    APPROVE = "approve"
    AUDIT = "audit"

    @property
    def scope(self) -> str:
        if self in REGISTRY_RIGHTS:
            return "registry"
        if self in ENVIRONMENT_RIGHTS:
            return "environment"
        return "server"


REGISTRY_RIGHTS = (Right.READ, Right.PUSH, Right.PROMOTE, Right.DELETE, Right.ADMIN)
ENVIRONMENT_RIGHTS = (Right.DEPLOY, Right.APPROVE)
SERVER_RIGHTS = (Right.ADMIN, Right.AUDIT)


@dataclass(frozen=True, slots=True, order=True)
class Permission:
    """One right on one registry or environment (``target``), ``*`` for all, or a server right
    (``target`` None)."""

    right: Right
    target: str | None = None

    @classmethod
    def parse(cls, text: str) -> Permission:
        text = text.strip()
        if ":" in text:
            name, _, target = text.partition(":")
            scope = "registry"
        elif "@" in text:
            name, _, target = text.partition("@")
            scope = "environment"
        else:
            name, target, scope = text, "", "server"
        try:
            right = Right(name)
        except ValueError:
            raise InvalidInput(_grammar(text, f"{clip(name)!r} is not a right")) from None
        if scope == "server":
            if right not in SERVER_RIGHTS:
                raise InvalidInput(_grammar(text, f"{right} needs a target: {_example(right)}"))
            return cls(right)
        if not target:
            raise InvalidInput(_grammar(text, "the target after ':' or '@' is empty"))
        if right.scope != scope and not (right is Right.ADMIN and scope == "registry"):
            raise InvalidInput(_grammar(text, f"{right} is a right on {_article(right.scope)}: {_example(right)}"))
        return cls(right, target)

    def __str__(self) -> str:
        if self.target is None:
            return self.right.value
        separator = "@" if self.right.scope == "environment" else ":"
        return f"{self.right.value}{separator}{self.target}"

    def covers(self, right: Right, target: str | None) -> bool:
        if self.target is None:  # a server right
            return self.right is Right.ADMIN or (self.right is right and target is None)
        if self.target not in (ANY, target):
            return False
        if self.right is right:
            return True
        return self.right is Right.ADMIN and right in REGISTRY_RIGHTS  # admin:dev holds every right on dev

    def names(self) -> str | None:
        """The registry or environment this names, when it names one (not ``*``, not a server right)."""
        return None if self.target in {None, ANY} else self.target


def _grammar(text: str, why: str) -> str:
    return (
        f"invalid permission {clip(text)!r}: {why} (write RIGHT:REGISTRY for read, push, promote, delete, admin; "
        "RIGHT@ENVIRONMENT for deploy, approve; or admin, audit; '*' means all)"
    )


def _article(scope: str) -> str:
    return "an environment" if scope == "environment" else f"a {scope}"


def _example(right: Right) -> str:
    return f"{right}@prod" if right.scope == "environment" else f"{right}:dev"


def parse_permissions(texts: Iterable[str]) -> tuple[Permission, ...]:
    return tuple(sorted({Permission.parse(t) for t in texts}))


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    permissions: tuple[Permission, ...]
    description: str = ""


def _role(name: str, description: str, *permissions: str) -> Role:
    return Role(name, parse_permissions(permissions), description)


# Defaults that mean DEV/PROD separation on the default registries (dev, prod) and environments
# (dev, uat, preprod, prod). Nobody holds push on prod: it takes promotions only.
DEFAULT_ROLES: Mapping[str, Role] = {
    r.name: r
    for r in (
        _role("viewer", "reads every registry", "read:*"),
        _role(
            "developer",
            "reads, pushes and cleans up in dev; deploys to and approves for dev and uat",
            "read:dev",
            "push:dev",
            "delete:dev",
            "deploy@dev",
            "deploy@uat",
            "approve@dev",
            "approve@uat",
        ),
        _role(
            "ci",
            "a build robot: pushes into dev, attests, deploys to dev and uat",
            "read:dev",
            "push:dev",
            "deploy@dev",
            "deploy@uat",
        ),
        _role(
            "release",
            "promotes into every registry (prod included) and deploys to preprod",
            "read:*",
            "promote:*",
            "deploy@preprod",
        ),
        _role("operator", "deploys to preprod and prod", "read:prod", "deploy@preprod", "deploy@prod"),
        _role("approver", "approves for preprod and prod", "read:*", "approve@preprod", "approve@prod"),
        _role("auditor", "reads every registry and the whole audit trail", "read:*", "audit"),
        _role("admin", "administers the server: every right, users, teams, tokens and access", "admin"),
    )
}


@dataclass(frozen=True, slots=True)
class Permissions:
    """What one actor may do: the union of ``grants``, narrowed by ``limit`` when the actor
    authenticated with a scoped token (the token can never do more than its owner)."""

    grants: frozenset[Permission] = frozenset()
    limit: frozenset[Permission] | None = None

    def allows(self, right: Right, target: str | None = None) -> bool:
        if not any(p.covers(right, target) for p in self.grants):
            return False
        return self.limit is None or any(p.covers(right, target) for p in self.limit)

    def narrowed(self, scope: Iterable[Permission]) -> Permissions:
        scope = frozenset(scope)
        limit = scope if self.limit is None else frozenset(p for p in scope if any(_within(p, q) for q in self.limit))
        return Permissions(self.grants, limit)

    def holds(self, permission: Permission) -> bool:
        """Whether everything ``permission`` grants is granted here (``read:*`` needs ``read:*``,
        not ``read:dev``)."""
        return any(_within(permission, q) for q in self.grants) and (
            self.limit is None or any(_within(permission, q) for q in self.limit)
        )

    @property
    def is_admin(self) -> bool:
        return self.allows(Right.ADMIN)

    def listing(self, registries: Iterable[str], environments: Iterable[str]) -> list[str]:
        """Every concrete permission held, e.g. for ``hoist whoami``."""
        held = [str(Permission(r)) for r in SERVER_RIGHTS if self.allows(r)]
        held += [str(Permission(r, n)) for n in sorted(registries) for r in REGISTRY_RIGHTS if self.allows(r, n)]
        held += [str(Permission(r, n)) for n in environments for r in ENVIRONMENT_RIGHTS if self.allows(r, n)]
        return held


def _within(p: Permission, q: Permission) -> bool:
    """Whether ``q`` covers everything ``p`` grants (so a narrower scope stays narrow)."""
    if q.target is None:
        return q.right is Right.ADMIN or q == p
    if p.target is None:
        return False
    if q.target not in (ANY, p.target):
        return False
    return q.right is p.right or (q.right is Right.ADMIN and p.right in REGISTRY_RIGHTS)


NOBODY = Permissions()


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The roles in force and which registries anyone (even unauthenticated) may read."""

    roles: Mapping[str, Role] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    anonymous_read: frozenset[str] = frozenset()

    def role(self, name: str) -> Role:
        try:
            return self.roles[name]
        except KeyError:
            known = ", ".join(sorted(self.roles))
            raise InvalidInput(f"unknown role {clip(name)!r} (known: {known})", role=clip(name)) from None

    def expand(self, grants: Iterable[str]) -> frozenset[Permission]:
        """Grants as stored (``role:NAME`` or a permission) as permissions; unknown roles grant
        nothing (a role removed from the configuration stops granting at once)."""
        out: set[Permission] = set()
        for grant in grants:
            if grant.startswith("role:"):
                role = self.roles.get(grant[len("role:") :])
                out.update(role.permissions if role else ())
            else:
                out.add(Permission.parse(grant))
        return frozenset(out)

    def anonymous(self) -> Permissions:
        return Permissions(frozenset(Permission(Right.READ, r) for r in self.anonymous_read))

    def check_grant(self, grant: str, registries: Iterable[str], environments: Iterable[str]) -> str:
        """A grant in its stored form, refused when it names a role, registry or environment that
        does not exist."""
        if grant.startswith("role:"):
            return f"role:{self.role(grant[len('role:') :]).name}"
        permission = Permission.parse(grant)
        check_targets([permission], registries, environments)
        return str(permission)


def check_targets(permissions: Iterable[Permission], registries: Iterable[str], environments: Iterable[str]) -> None:
    known = {"registry": set(registries), "environment": set(environments)}
    for p in permissions:
        name = p.names()
        scope = "registry" if p.right is Right.ADMIN else p.right.scope
        if name is not None and name not in known[scope]:
            listed = ", ".join(sorted(known[scope]))
            raise InvalidInput(
                f"permission {clip(str(p))} names unknown {scope} {clip(name)!r} (known: {listed})", permission=clip(str(p))
            )
