"""Domain errors in the shapes native clients print: npm's ``{"error": "..."}`` and the
``text/plain`` body Maven, pip, twine and curl show. The status comes from the one table of
``http/errors.py``; the headers an error carries (Retry-After, Content-Range, the challenge) are
added by ``Edge.refusal``."""

from __future__ import annotations

from starlette.responses import JSONResponse, PlainTextResponse

from hoist.domain.errors import HoistError
from hoist.http.errors import status_of

__all__ = ["npm_error", "status_of", "text_error"]


def text_error(exc: HoistError, status: int | None = None) -> PlainTextResponse:
    return PlainTextResponse(exc.message + "\n", status if status is not None else status_of(exc))


def npm_error(exc: HoistError, status: int | None = None) -> JSONResponse:
    return JSONResponse({"error": exc.message}, status if status is not None else status_of(exc))
