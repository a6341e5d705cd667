"""API tokens: made (shown once, kept as their sha256, expiring, narrowed to a scope the owner
holds), listed and revoked. A revocation tells authentication (``on_change``) so that this process
forgets the token at once; other processes within its cache bound."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from hoist.domain.access import AccessPolicy, Permissions, Right
from hoist.domain.errors import InvalidInput, NotFound
from hoist.domain.events import Action, EventDraft
from hoist.domain.models import Actor
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataStore
from hoist.domain.principals import Token, new_token
from hoist.services.administration import checked_grants
from hoist.services.base import Clock, retrying, utcnow
from hoist.services.guard import Guard

MAX_TOKEN_DAYS = 3650


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: Token
    secret: str  # shown once


class TokenService:
    def __init__(
        self,
        metadata: MetadataStore,
        policy: Policy,
        access: AccessPolicy,
        guard: Guard,
        clock: Clock = utcnow,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._metadata = metadata
        self._policy = policy
        self.access = access
        self._guard = guard
        self._clock = clock
        self._changed = on_change

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
        stored_scope = tuple(checked_grants(self.access, self._policy, scope)) if scope is not None else None
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
