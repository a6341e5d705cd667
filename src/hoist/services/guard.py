"""The one place a use case asks whether its actor may act, and where every refusal is audited.

A denial to someone who did not authenticate is ``Unauthenticated`` (so that clients log in and
retry: OCI clients answer the 401 by fetching a token); to an authenticated actor it is ``Denied``.
Either way an ``access:denied`` event records who asked, from where, with which credential, and what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from hoist.domain.access import Permission, Right
from hoist.domain.digests import Digest
from hoist.domain.errors import Denied, Unauthenticated
from hoist.domain.events import Action, EventDraft
from hoist.domain.models import Actor
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataStore
from hoist.services.base import Clock, record_refusal


class Guard:
    def __init__(self, metadata: MetadataStore, clock: Clock) -> None:
        self._metadata = metadata
        self._clock = clock

    def require(self, actor: Actor, right: Right, target: str | None = None, *, asked: str, subject: str = "") -> None:
        if not actor.may(right, target):
            self.deny(actor, [Permission(right, target)], asked=asked, subject=subject)

    def require_any(self, actor: Actor, needed: Iterable[Permission], *, asked: str, subject: str = "") -> Permission:
        """One of ``needed`` (e.g. push on any registry holding the artifact); the first held."""
        options = list(needed)
        if not options and actor.permissions.is_admin:  # nothing to hold it by (e.g. in no registry now)
            return Permission(Right.ADMIN)
        for p in options:
            if actor.may(p.right, p.target):
                return p
        return self.deny(actor, options, asked=asked, subject=subject)

    def deny(
        self, actor: Actor, needed: list[Permission], *, asked: str, subject: str = "", why: str | None = None
    ) -> NoReturn:
        """``why`` replaces the usual "that needs ..." when the one lacking the permissions is not the
        actor (e.g. the owner of a token an administrator makes)."""
        wanted = " or ".join(str(p) for p in needed) or "a right nobody holds"
        needs = [str(p) for p in needed]
        self._record(actor, needs, asked=asked, subject=subject, why=why)
        if not actor.authenticated:
            raise Unauthenticated(f"{asked} needs {wanted}: log in (hoist login, or a token)", needs=needs)
        raise Denied(f"{actor.name} may not {asked}: {why or f'that needs {wanted}'}", needs=needs)

    def record_unauthenticated(self, actor: Actor, asked: str) -> None:
        """Audit a request the HTTP edge refused because nobody authenticated: a change, which no
        anonymous caller may make, refused before its body was read and before any use case ran."""
        self._record(actor, ["an authenticated principal"], asked=asked)

    def _record(self, actor: Actor, needs: list[str], *, asked: str, subject: str = "", why: str | None = None) -> None:
        details = {
            "asked": asked,
            "needs": needs,
            "source": actor.source,
            "credential": actor.credential,
            **({"reason": why} if why else {}),
        }
        record_refusal(
            self._metadata,
            EventDraft(action=Action.ACCESS_DENIED, actor=actor.name, subject=subject or asked, details=details),
            self._clock,
        )

    def require_read(self, actor: Actor, registries: Iterable[str], *, asked: str, subject: str = "") -> None:
        """Read on at least one of the registries holding what is asked for."""
        self.require_any(actor, [Permission(Right.READ, r) for r in sorted(registries)], asked=asked, subject=subject)


def may_reference(metadata: MetadataStore, actor: Actor, digest: Digest) -> bool:
    """Whether a new manifest or artifact of ``actor`` may name this stored blob: knowing a digest
    is not a right to its bytes, so a blob that only registries the actor cannot read hold stays
    out of reach (a blob no registry holds yet, e.g. just uploaded, may be named)."""
    held = metadata.hot.blob_registries(str(digest))
    return not held or any(actor.may(Right.READ, r) for r in held)


@dataclass(frozen=True, slots=True)
class Abilities:
    """What an actor may start, asked the way the use cases ask (``Guard.require``): the web UI offers
    a button only for these, and the use case still decides when the button is pressed."""

    promote: frozenset[str]  # registries taking promotions that the actor may promote into
    approve: frozenset[str]  # environments the actor may approve for (robots only where allowed)
    deploy: frozenset[str]  # environments the actor may deploy to and roll back


def abilities(actor: Actor, policy: Policy) -> Abilities:
    return Abilities(
        promote=frozenset(r.name for r in policy.registries.values() if r.promote_from and actor.may(Right.PROMOTE, r.name)),
        approve=frozenset(
            e.name
            for e in policy.environments
            if actor.may(Right.APPROVE, e.name) and e.approver_problem(actor.kind) is None
        ),
        deploy=frozenset(e.name for e in policy.environments if actor.may(Right.DEPLOY, e.name)),
    )
