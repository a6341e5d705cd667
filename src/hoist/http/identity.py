"""Who is asking, and from which pipeline.

Until access control lands, the actor is whatever the client declares (``X-Hoist-Actor``); the
services only ever see an ``Actor``, so real authentication replaces ``actor_of`` and nothing else.
"""

from __future__ import annotations

import json

from starlette.requests import HTTPConnection

from hoist.domain.errors import InvalidInput
from hoist.domain.models import Actor, Pipeline

ACTOR_HEADER = "x-hoist-actor"
PIPELINE_HEADER = "x-hoist-pipeline"
ANONYMOUS = "anonymous"


def actor_of(request: HTTPConnection) -> Actor:
    declared = request.headers.get(ACTOR_HEADER, "").strip()
    if len(declared) > 255 or any(ord(c) < 32 for c in declared):
        raise InvalidInput("the X-Hoist-Actor header must be a printable name of at most 255 characters")
    source = request.client.host if request.client else None
    return Actor(name=declared or ANONYMOUS, kind="user", authenticated=False, source=source)


def pipeline_of(request: HTTPConnection) -> Pipeline | None:
    raw = request.headers.get(PIPELINE_HEADER)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidInput("the X-Hoist-Pipeline header must be a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidInput("the X-Hoist-Pipeline header must be a JSON object")
    return Pipeline.from_dict(data)
