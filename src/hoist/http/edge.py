"""The protocol edge as a table: per path prefix, how credentials arrive, the challenge a 401
carries, whether an anonymous change is refused before its body is read, and the shape errors take.

``IdentityMiddleware`` reads the table before routing; a protocol room answers its own errors with
the same row (``Edge.refusal``), so a 401 looks the same whether the edge or a route refused.
The rows of the native formats live in ``formats/common/edge.py``; ``app.py`` adds the /v2 row (OCI's
error table) and puts them together, since this layer may not import the formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from starlette.responses import Response
from starlette.types import Scope

from hoist.domain.errors import HoistError, Unauthenticated
from hoist.http.errors import api_error, error_headers


class Credential(Enum):
    """A way credentials arrive; the value names it in a refusal."""

    OCI_BEARER = "a /v2 bearer token"
    API_TOKEN = "an API token as Bearer"  # noqa: S105 - a description, not a password
    BASIC = "Basic username:password (a token as password)"
    SESSION = "the web UI's session cookie"


# Every credential an HTTP client sends itself; the session cookie is the web UI's alone.
EVERY_CREDENTIAL = frozenset(Credential) - {Credential.SESSION}

# Renders a domain error in a protocol's error shape, choosing the status from its own table.
Render = Callable[[HoistError], Response]


@dataclass(frozen=True, slots=True)
class Edge:
    prefix: str
    render: Render
    credentials: frozenset[Credential] = EVERY_CREDENTIAL
    challenge: Callable[[Scope], str] | None = None  # WWW-Authenticate on a 401: the client retries with credentials
    anonymous_changes: bool = False  # whether a change from nobody reaches the routes (/v2 decides per repository)
    logins: re.Pattern[str] | None = None  # paths where a change from nobody is a login (npm login), for the route
    probes: frozenset[str] = frozenset()  # paths where a request without credentials is a 401 with the challenge
    login: str = "hoist login, or a token"
    cookie: str | None = None  # a cookie that carries an API token when no Authorization is sent (the web UI's session)

    def holds(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def takes_anonymous_change(self, path: str) -> bool:
        return self.anonymous_changes or (self.logins is not None and self.logins.fullmatch(path) is not None)

    def accepting(self, credential: Credential) -> None:
        if credential not in self.credentials:
            takes = " or ".join(sorted(c.value for c in self.credentials))
            raise Unauthenticated(f"{credential.value} is not taken here: {self.prefix} takes {takes}")

    def refusal(self, error: HoistError, scope: Scope) -> Response:
        """``error`` as this protocol's clients expect it, with the challenge on a 401."""
        response = self.render(error)
        response.headers.update(error_headers(error))
        if response.status_code == 401 and self.challenge is not None:
            response.headers["WWW-Authenticate"] = self.challenge(scope)
        if scope.get("method") == "HEAD":  # a HEAD answer carries no body (RFC 9110 §9.3.2)
            headers = {k: v for k, v in response.headers.items() if k not in {"content-length", "content-type"}}
            return Response(status_code=response.status_code, headers=headers)
        return response


JSON_API = Edge("/api/v1", api_error)


class EdgeTable:
    """The row of the first prefix a path falls under (most asked first: /v2 pulls), else
    ``default`` (the JSON API's row, which also answers ``/``)."""

    def __init__(self, edges: Iterable[Edge], default: Edge) -> None:
        self.edges = tuple(edges)
        self.default = default

    def of(self, path: str) -> Edge:
        for edge in self.edges:
            if edge.holds(path):
                return edge
        return self.default
