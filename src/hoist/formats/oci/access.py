"""Access on /v2: which right each distribution action needs, what the token endpoint may grant,
and the check every endpoint makes (through the ``Guard``, so that each denial is audited).

``pull`` needs read on the registry; ``push`` needs push, or promote (a release signs what it
promotes: cosign's signature and attestation uploads), and the repository service then lets a
promote-only actor push nothing but signatures and attestations; ``delete`` needs delete.
"""

from __future__ import annotations

from hoist.domain.access import Permission, Right
from hoist.domain.models import Actor
from hoist.services.guard import Guard

ACTION_RIGHTS: dict[str, tuple[Right, ...]] = {
    "pull": (Right.READ,),
    "push": (Right.PUSH, Right.PROMOTE),
    "delete": (Right.DELETE,),
}
CATALOG = "catalog"


def may(actor: Actor, registry: str, action: str) -> bool:
    return any(actor.may(r, registry) for r in ACTION_RIGHTS[action])


def grantable(actor: Actor, scopes: list[str]) -> frozenset[str]:
    """The requested scopes (``repository:dev/shop/api:pull,push``, ``registry:catalog:*``) the actor
    holds, as ``dev/shop/api:pull`` entries: what the token endpoint puts in the token. Scopes it
    does not hold are left out, not refused (distribution's token spec)."""
    granted: set[str] = set()
    for requested in (part for s in scopes for part in s.split()):
        kind, _, rest = requested.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind == "registry" and name == CATALOG:
            granted.add(CATALOG)
            continue
        if kind != "repository" or not name or "/" not in name:
            continue
        registry = name.split("/", 1)[0]
        wanted = ACTION_RIGHTS if actions == "*" else actions.split(",")
        granted.update(f"{name}:{a}" for a in wanted if a in ACTION_RIGHTS and may(actor, registry, a))
    return frozenset(granted)


class OciAccess:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def authorize(self, actor: Actor, name: str, action: str) -> None:
        """Let the request through, or the guard's audited denial (401 with the challenge for an
        anonymous client, 403 otherwise).

        A bearer token is honoured for what its holder may do, not only for the repositories named
        when it was issued: clients differ in when they ask for a wider scope (oras-py asks again on
        a 403 only), and the token carries the holder's permissions anyway, for five minutes."""
        registry = name.split("/", 1)[0]
        if may(actor, registry, action):
            return
        needed = [Permission(r, registry) for r in ACTION_RIGHTS[action]]
        self.guard.deny(actor, needed, asked=f"{action} {name}", subject=name)
