"""The client rebuilds every domain error from the response the server would send, whatever its details."""

from __future__ import annotations

import httpx
import pytest

from hoist.client.errors import error_from_response
from hoist.domain import errors as e
from hoist.http.errors import STATUS, error_response


def _every_error_class(cls: type[e.HoistError] = e.HoistError) -> list[type[e.HoistError]]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _every_error_class(direct))]


def _status(cls: type[e.HoistError]) -> int:
    return next((status for base, status in STATUS if issubclass(cls, base)), 500)


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers, request=httpx.Request("GET", "http://hoist.test/api/v1/x"))


RICH_DETAILS = {
    "problems": [{"gate": "ceiling", "message": "a snapshot stops at dev"}],
    "retry_after": 7,
    "digest": "sha256:" + "ab" * 32,
    "message": "a detail that shares a name with the constructor's argument",
}


@pytest.mark.parametrize("cls", _every_error_class(), ids=lambda c: c.code)
@pytest.mark.parametrize("details", [{}, RICH_DETAILS], ids=["no-details", "every-detail"])
def test_every_error_code_is_rebuilt_from_a_server_shaped_response(
    cls: type[e.HoistError], details: dict[str, object]
) -> None:
    body = {"error": {"code": cls.code, "message": "what the server said", "details": details}}
    rebuilt = error_from_response(_response(_status(cls), body, {"Retry-After": "7"}))

    assert type(rebuilt) is cls
    assert rebuilt.message.startswith("what the server said")
    # what the client rebuilt goes back on the wire as the server sent it
    again = error_response(rebuilt)
    assert again.status_code == _status(cls)
    if isinstance(rebuilt, e.Refused) and details:
        assert rebuilt.problems == (e.Problem("ceiling", "a snapshot stops at dev"),)
    if isinstance(rebuilt, e.TooManyAttempts):
        assert rebuilt.retry_after == 7
        assert again.headers["Retry-After"] == "7"


def test_a_throttled_login_says_when_to_retry_even_when_only_the_header_does() -> None:
    body = {"error": {"code": "TOO_MANY_ATTEMPTS", "message": "too many failed logins", "details": {}}}
    rebuilt = error_from_response(_response(429, body, {"Retry-After": "42"}))
    assert isinstance(rebuilt, e.TooManyAttempts)
    assert rebuilt.retry_after == 42
    assert "42 s" in rebuilt.message


def test_an_unknown_code_or_a_body_that_is_not_the_error_shape_is_a_plain_error() -> None:
    unknown = error_from_response(_response(418, {"error": {"code": "TEAPOT", "message": "short and stout"}}))
    assert type(unknown) is e.HoistError and unknown.message == "short and stout"
    other = error_from_response(_response(502, ["not", "an", "error", "object"]))
    assert type(other) is e.HoistError and "HTTP 502" in other.message
