"""The request being served, as context: its id rides from the HTTP edge to every audit event and
log line the request causes, with no parameter threaded through each call (a ``ContextVar``: the
worker threads a request's work runs on copy it)."""

from __future__ import annotations

import re
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("hoist_request_id", default=None)

_GIVEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def acceptable_request_id(value: str | None) -> bool:
    """Whether an id a client or a load balancer sent (``X-Request-Id``) may be kept: short, plain
    characters only, so it is safe in logs and events."""
    return value is not None and _GIVEN.fullmatch(value) is not None
