"""Client methods for principals and their rights (``/api/v1/whoami``, ``/access``, ``/users``,
``/teams``, ``/grants``, ``/tokens``), mixed into ``HoistClient``.

Grants are written as the server stores them: ``role:NAME`` or a permission such as ``push:dev``,
``deploy@prod``, ``admin``; principals as ``user:NAME`` or ``team:NAME``.

Two calls authenticate with another credential than the client's own, for ``hoist login`` and
``hoist logout``: ``login`` (a username and password, sent as HTTP Basic once, traded for a token)
and ``token_info`` / ``revoke_own_token`` (a token checked or revoked with itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx


def _seg(name: str) -> str:
    """One path segment: names are validated by the server, but never let one change the path."""
    return quote(name, safe="")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_id_of(credential: str | None) -> str | None:
    """The token id in a ``whoami`` credential (``token:ID``), or None for a password or no credential."""
    kind, sep, rest = (credential or "").partition(":")
    return rest if sep and kind == "token" and rest else None


class AccessMethods:
    """Users, robots, teams, grants and API tokens. Needs ``request`` and ``_json`` (HoistClient's)."""

    if TYPE_CHECKING:

        def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

        def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

    # -- what everyone may ask ------------------------------------------------------------------

    def access(self) -> dict[str, Any]:
        """Roles and anonymous reads; for administrators and auditors every user and team too."""
        result: dict[str, Any] = self._json("GET", "/access")
        return result

    # -- users and robots -------------------------------------------------------------------------

    def create_user(
        self, name: str, *, robot: bool = False, password: str | None = None, grants: Iterable[str] = ()
    ) -> dict[str, Any]:
        body = {"name": name, "robot": robot, "password": password, "grants": list(grants)}
        result: dict[str, Any] = self._json("POST", "/users", json=body)
        return result

    def users(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/users")
        return result

    def user(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/users/{_seg(name)}")
        return result

    def set_disabled(self, name: str, disabled: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._json("PATCH", f"/users/{_seg(name)}", json={"disabled": disabled})
        return result

    def set_password(self, name: str, password: str, *, current: str | None = None) -> None:
        self.request("PUT", f"/users/{_seg(name)}/password", json={"password": password, "current": current})

    # -- teams ------------------------------------------------------------------------------------

    def create_team(self, name: str, *, grants: Iterable[str] = ()) -> dict[str, Any]:
        result: dict[str, Any] = self._json("POST", "/teams", json={"name": name, "grants": list(grants)})
        return result

    def teams(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/teams")
        return result

    def delete_team(self, name: str) -> None:
        self.request("DELETE", f"/teams/{_seg(name)}")

    def add_member(self, team: str, user: str) -> bool:
        """True when ``user`` was not in ``team`` yet."""
        return bool(self._json("PUT", f"/teams/{_seg(team)}/members/{_seg(user)}")["changed"])

    def remove_member(self, team: str, user: str) -> bool:
        """True when ``user`` was in ``team``."""
        return bool(self._json("DELETE", f"/teams/{_seg(team)}/members/{_seg(user)}")["changed"])

    # -- grants -----------------------------------------------------------------------------------

    def grant(self, principal: str, grant: str) -> bool:
        """Grant ``role:NAME`` or a permission to ``user:NAME`` / ``team:NAME``; True when it is new."""
        return bool(self._json("POST", "/grants", json={"principal": principal, "grant": grant})["changed"])

    def revoke(self, principal: str, grant: str) -> bool:
        """Take a grant back; True when the principal held it."""
        return bool(self._json("DELETE", "/grants", params={"principal": principal, "grant": grant})["changed"])

    # -- API tokens -------------------------------------------------------------------------------

    def create_token(
        self,
        owner: str | None = None,
        *,
        description: str = "",
        scope: Iterable[str] | None = None,
        expires_in_days: int | None = 90,
    ) -> dict[str, Any]:
        """A new token; its secret is in ``token``, returned this once."""
        body = {
            "owner": owner,
            "description": description,
            "scope": list(scope) if scope is not None else None,
            "expires_in_days": expires_in_days,
        }
        result: dict[str, Any] = self._json("POST", "/tokens", json=body)
        return result

    def tokens(self, owner: str | None = None, *, all: bool = False) -> list[dict[str, Any]]:
        """Your tokens, ``owner``'s, or with ``all`` everyone's (the last two for administrators)."""
        params: dict[str, Any] = {"all": "true"} if all else {}
        if owner:
            params["owner"] = owner
        result: list[dict[str, Any]] = self._json("GET", "/tokens", params=params)
        return result

    def revoke_token(self, token_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("DELETE", f"/tokens/{_seg(token_id)}")
        return result

    # -- another credential than the client's own ---------------------------------------------

    def login(
        self, username: str, password: str, *, description: str = "", expires_in_days: int | None = 90
    ) -> dict[str, Any]:
        """Trade a username and password (sent once, as HTTP Basic) for a new token of that user."""
        body = {"description": description, "expires_in_days": expires_in_days}
        result: dict[str, Any] = self._json("POST", "/tokens", json=body, auth=(username, password))
        return result

    def token_info(self, token: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Who ``token`` authenticates as (``whoami``), and its own record (id, expiry, scope), asked
        with that token itself; the record is None when the credential is not an API token."""
        me: dict[str, Any] = self._json("GET", "/whoami", headers=_bearer(token))
        token_id = token_id_of(me.get("credential"))
        if token_id is None:
            return me, None
        records: list[dict[str, Any]] = self._json("GET", "/tokens", headers=_bearer(token))
        return me, next((t for t in records if t["id"] == token_id), None)

    def revoke_own_token(self, token: str) -> dict[str, Any] | None:
        """Revoke ``token`` with itself; None when it is not an API token."""
        me: dict[str, Any] = self._json("GET", "/whoami", headers=_bearer(token))
        token_id = token_id_of(me.get("credential"))
        if token_id is None:
            return None
        result: dict[str, Any] = self._json("DELETE", f"/tokens/{_seg(token_id)}", headers=_bearer(token))
        return result
