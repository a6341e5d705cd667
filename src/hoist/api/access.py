"""Principals and their rights: who am I, users, robots, teams, grants and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hoist.api.bodies import BoundedRoute
from hoist.api.schemas import ErrorBody, access_out, team_out, token_out, user_out, whoami_out
from hoist.domain.errors import InvalidInput
from hoist.domain.principals import PrincipalKind
from hoist.http.identity import actor_of
from hoist.services.administration import Administration
from hoist.services.tokens import TokenService

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409)}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserIn(_In):
    name: str
    robot: bool = False
    password: str | None = Field(None, description="users only; robots authenticate with tokens")
    grants: list[str] = Field(default_factory=list, description="role:NAME or a permission such as push:dev")


class UserPatch(_In):
    disabled: bool


class PasswordIn(_In):
    password: str
    current: str | None = None


class TeamIn(_In):
    name: str
    grants: list[str] = Field(default_factory=list)


class GrantIn(_In):
    principal: str = Field(description="user:NAME or team:NAME")
    grant: str = Field(description="role:NAME or a permission such as push:dev, deploy@prod")


class TokenIn(_In):
    owner: str | None = Field(None, description="default: yourself; another principal needs admin")
    description: str = ""
    scope: list[str] | None = Field(None, description="roles or permissions; default: everything the owner holds")
    expires_in_days: int | None = Field(90, description="null: never expires")


def principal(text: str) -> tuple[PrincipalKind, str]:
    kind, sep, name = text.partition(":")
    if not sep or kind not in {"user", "team"} or not name:
        raise InvalidInput(f"principal {text[:80]!r} must be user:NAME or team:NAME")
    return (PrincipalKind.TEAM if kind == "team" else PrincipalKind.USER), name


def router(access: Administration, tokens: TokenService) -> APIRouter:
    api = APIRouter(tags=["access"], responses=ERRORS, route_class=BoundedRoute)

    @api.get("/whoami")
    def whoami(request: Request) -> dict[str, Any]:
        """The actor this request authenticated as, and every permission it holds."""
        return whoami_out(access.whoami(actor_of(request)))

    @api.get("/access")
    def show(request: Request) -> dict[str, Any]:
        """Roles and anonymous reads; for administrators and auditors every principal too."""
        return access_out(access.show(actor_of(request)))

    @api.post("/users", status_code=201)
    def create_user(body: UserIn, request: Request) -> dict[str, Any]:
        view = access.create_user(actor_of(request), body.name, robot=body.robot, password=body.password, grants=body.grants)
        return user_out(view)

    @api.get("/users")
    def list_users(request: Request) -> list[dict[str, Any]]:
        return [user_out(v) for v in access.users(actor_of(request))]

    @api.get("/users/{name}")
    def get_user(name: str, request: Request) -> dict[str, Any]:
        return user_out(access.user(actor_of(request), name))

    @api.patch("/users/{name}")
    def patch_user(name: str, body: UserPatch, request: Request) -> dict[str, Any]:
        return user_out(access.set_disabled(actor_of(request), name, body.disabled))

    @api.put("/users/{name}/password", status_code=204)
    def set_password(name: str, body: PasswordIn, request: Request) -> Response:
        access.set_password(actor_of(request), name, body.password, current=body.current)
        return Response(status_code=204)

    @api.post("/teams", status_code=201)
    def create_team(body: TeamIn, request: Request) -> dict[str, Any]:
        access.create_team(actor_of(request), body.name, grants=body.grants)
        return next(team_out(t) for t in access.teams(actor_of(request)) if t.name == body.name)

    @api.get("/teams")
    def list_teams(request: Request) -> list[dict[str, Any]]:
        return [team_out(t) for t in access.teams(actor_of(request))]

    @api.delete("/teams/{name}", status_code=204)
    def delete_team(name: str, request: Request) -> Response:
        access.delete_team(actor_of(request), name)
        return Response(status_code=204)

    @api.put("/teams/{team}/members/{user}")
    def add_member(team: str, user: str, request: Request) -> dict[str, bool]:
        return {"changed": access.set_member(actor_of(request), team, user, member=True)}

    @api.delete("/teams/{team}/members/{user}")
    def remove_member(team: str, user: str, request: Request) -> dict[str, bool]:
        return {"changed": access.set_member(actor_of(request), team, user, member=False)}

    @api.post("/grants")
    def grant(body: GrantIn, request: Request) -> dict[str, bool]:
        kind, name = principal(body.principal)
        return {"changed": access.set_grant(actor_of(request), kind, name, body.grant, granted=True)}

    @api.delete("/grants")
    def revoke(
        request: Request, principal_: str = Query(..., alias="principal"), grant: str = Query(...)
    ) -> dict[str, bool]:
        kind, name = principal(principal_)
        return {"changed": access.set_grant(actor_of(request), kind, name, grant, granted=False)}

    @api.post("/tokens", status_code=201)
    def create_token(body: TokenIn, request: Request) -> dict[str, Any]:
        """A new API token, returned this once in ``token``: only its sha256 is kept."""
        made = tokens.create_token(
            actor_of(request),
            owner=body.owner,
            description=body.description,
            scope=body.scope,
            expires_in_days=body.expires_in_days,
        )
        return {**token_out(made.token, made.token.created_at), "token": made.secret}

    @api.get("/tokens")
    def list_tokens(request: Request, owner: str | None = None, all: bool = False) -> list[dict[str, Any]]:
        actor = actor_of(request)
        now = access.now()
        return [token_out(t, now) for t in tokens.tokens(actor, owner=owner, every=all)]

    @api.delete("/tokens/{token_id}")
    def revoke_token(token_id: str, request: Request) -> dict[str, Any]:
        token = tokens.revoke_token(actor_of(request), token_id)
        return token_out(token, access.now())

    return api
