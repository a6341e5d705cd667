"""The edge rows of the native formats (``http/edge.py``): what ``IdentityMiddleware`` answers
before routing, and what each room's exception handler answers (``refusals(EDGE)``), the same way."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ExceptionHandler, Scope

from hoist.domain.errors import HoistError
from hoist.formats.common.errors import npm_error, text_error
from hoist.http.edge import Credential, Edge

BASIC_CHALLENGE = 'Basic realm="hoist"'
# A /v2 bearer is scoped to repositories for the OCI token flow: it proves nothing elsewhere.
NATIVE_CREDENTIALS = frozenset({Credential.API_TOKEN, Credential.BASIC})


def basic_challenge(_scope: Scope) -> str:
    """Maven, pip and curl send credentials only once asked for Basic."""
    return BASIC_CHALLENGE


# npm answers a 401 by telling its user to log in; it needs no challenge, and reads npm's JSON.
NPM = Edge("/npm", npm_error, NATIVE_CREDENTIALS, login="npm login, or an _authToken in .npmrc")
MAVEN = Edge("/maven", text_error, NATIVE_CREDENTIALS, basic_challenge, login="a <server> in Maven's settings.xml")
PYPI = Edge("/pypi", text_error, NATIVE_CREDENTIALS, basic_challenge, login="a username and password, or a token")
GENERIC = Edge("/generic", text_error, NATIVE_CREDENTIALS, basic_challenge, login="Basic credentials, or a token")
NATIVE = (NPM, MAVEN, PYPI, GENERIC)


def refusals(edge: Edge) -> dict[type[Exception], ExceptionHandler]:
    """A room's exception handlers: ``Starlette(routes, exception_handlers=refusals(MAVEN))``."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HoistError)
        return edge.refusal(exc, request.scope)

    return {HoistError: handle}
