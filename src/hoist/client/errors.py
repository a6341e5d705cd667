"""Turning error responses back into the typed errors the server raised."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hoist.domain import errors as e

if TYPE_CHECKING:  # the CLI imports this module to catch ServerUnreachable before any command needs httpx
    import httpx


class ServerUnreachable(e.HoistError):
    """The server could not be reached or did not answer in time."""

    code = "SERVER_UNREACHABLE"


def raise_for_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise error_from_response(response)


def error_from_response(response: httpx.Response) -> e.HoistError:
    """The domain error named by the response's stable ``code``, whatever details the server sent with it.

    Details are not constructor arguments: a server may leave them out (a 429 from the identity
    layer says when to retry only in ``Retry-After``) or add keys, and neither may crash the client."""
    try:
        error = response.json()["error"]
        code, message, details = str(error["code"]), str(error["message"]), error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        return e.HoistError(f"HTTP {response.status_code} from {response.request.url}: {response.text[:200]}")
    if not isinstance(details, dict):
        details = {}
    cls = _classes_by_code().get(code, e.HoistError)
    rebuilt = _construct(cls, message, details, response.headers.get("Retry-After"))
    rebuilt.details.update((k, v) for k, v in details.items() if k != "problems")
    return rebuilt


def _construct(cls: type[e.HoistError], message: str, details: dict[str, Any], retry_after: str | None) -> e.HoistError:
    if issubclass(cls, e.TooManyAttempts):
        wait = _seconds(details.get("retry_after", retry_after))
        if f"{wait} s" not in message:
            message = f"{message}: try again in {wait} s"
        return cls(message, retry_after=wait)
    if issubclass(cls, e.Refused):
        problems = details.get("problems")
        listed = problems if isinstance(problems, list) else []
        named = [p for p in listed if isinstance(p, dict)]
        return cls(message, [e.Problem(str(p.get("gate", "")), str(p.get("message", ""))) for p in named])
    return cls(message)


def _seconds(value: object) -> int:
    try:
        return max(1, int(str(value)))
    except ValueError:
        return 1  # no usable hint: the shortest wait that still waits


def _classes_by_code() -> dict[str, type[e.HoistError]]:
    found: dict[str, type[e.HoistError]] = {}
    pending: list[type[e.HoistError]] = [e.HoistError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found
