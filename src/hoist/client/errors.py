"""Turning error responses back into the typed errors the server raised."""

from __future__ import annotations

import httpx

from hoist.domain.errors import HoistError, error_from_code


class ServerUnreachable(Exception):
    """The server could not be reached or did not answer in time."""


def raise_for_error(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        code, message, details = error["code"], error["message"], error.get("details")
    except (ValueError, KeyError, TypeError):
        raise HoistError(f"HTTP {response.status_code} from {response.request.url}: {response.text[:200]}") from None
    raise error_from_code(code, message, details)
