"""The one table from domain errors to HTTP status codes, and the JSON error shape of /api/v1:
``{"error": {"code": "VERSION_EXISTS", "message": "...", "details": {...}}}``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from hoist.domain import errors as e
from hoist.domain.ranges import unsatisfiable

# Most specific first: the first class an error is an instance of decides.
STATUS: tuple[tuple[type[e.HoistError], int], ...] = (
    (e.UploadOutOfOrder, 416),
    (e.RangeNotSatisfiable, 416),
    (e.InvalidInput, 400),
    (e.TooLarge, 413),
    (e.TooManyAttempts, 429),
    (e.Unauthenticated, 401),
    (e.NotFound, 404),
    (e.Denied, 403),
    (e.Refused, 409),
    (e.Conflict, 409),
    (e.IntegrityFailure, 500),
)


def status_of(error: e.HoistError) -> int:
    for cls, status in STATUS:
        if isinstance(error, cls):
            return status
    return 500


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def range_headers(error: e.HoistError) -> dict[str, str]:
    """A 416 for a Range says how long the body is (RFC 9110 §15.5.17), on every protocol."""
    size = error.details.get("size")
    if isinstance(error, e.RangeNotSatisfiable) and isinstance(size, int):
        return {"Content-Range": unsatisfiable(size)}
    return {}


def error_headers(error: e.HoistError) -> dict[str, str]:
    """What an error tells a client in headers, whatever the body's shape: when to retry, how long
    a body is that a Range missed."""
    if isinstance(error, e.TooManyAttempts):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, e.ConcurrentUpdate):
        return {"Retry-After": "1"}
    return range_headers(error)


def api_error(error: e.HoistError) -> JSONResponse:
    return JSONResponse(error_body(error.code, error.message, error.details), status_of(error))


def error_response(error: e.HoistError) -> JSONResponse:
    response = api_error(error)
    response.headers.update(error_headers(error))
    return response


async def handle_hoist_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.HoistError)
    return error_response(exc)
