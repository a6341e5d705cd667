"""The audit pages: the trail (filtered and paged in the database, newest first, with the chain's
verification and the latest signed checkpoint) and "am I affected?" (the component index, as
``GET /api/v1/affected`` answers it: where affected versions run now, which SBOMs are pending)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hoist.domain.errors import InvalidInput
from hoist.domain.events import CHECKPOINT_MARK, EventFilter, format_time
from hoist.domain.models import Actor
from hoist.web.pages import Pages

PAGE = 50
FILTERS = ("actor", "action", "package", "environment")
FIELD_CHARS = 255


def moment(field: str, text: str) -> str | None:
    """A time typed into the form (``2026-11-26`` or ``2026-11-26T12:00``, UTC) as events carry it."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        shape = "a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM)"
        raise InvalidInput(f"the {field} time {text[:40]!r} is not {shape}") from None
    return format_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def cursor(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput(f"before={text[:40]!r} is not an event number")
    return int(text)


def shown(value: Any) -> str:
    """A detail's value as text (escaped by the template like every other string)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


class AuditPages:
    def __init__(self, pages: Pages) -> None:
        self.web = pages
        self.s = pages.s

    async def audit(self, request: Request, actor: Actor) -> Response:
        params = request.query_params
        form = {f: params.get(f, "").strip()[:FIELD_CHARS] for f in (*FILTERS, "from", "to")}
        where = EventFilter(
            **{f: form[f] or None for f in FILTERS},
            since=moment("from", form["from"]),
            until=moment("to", form["to"]),
        )
        before = cursor(params.get("before", ""))

        def read() -> dict[str, Any]:
            events = self.s.audit.search(where, actor=actor, before=before, limit=PAGE)
            marks = self.s.audit.marks(actor=actor)
            return {
                "events": [(e, [(k, shown(v)) for k, v in sorted(e.details.items())]) for e in events],
                "report": self.s.audit.verify(actor=actor),
                "checkpoint": next((m for m in marks if m.name == CHECKPOINT_MARK), None),
            }

        context = await run_in_threadpool(read)
        kept = {k: v for k, v in form.items() if v}
        events = context["events"]
        older = f"?{urlencode({**kept, 'before': events[-1][0].seq})}" if len(events) == PAGE else None
        newest = f"?{urlencode(kept)}" if before is not None else None
        return self.web.render(request, "audit.html", form=form, older=older, newest=newest, **context)

    async def affected(self, request: Request, actor: Actor) -> Response:
        query = request.query_params.get("q", "").strip()[:FIELD_CHARS]
        range_spec = request.query_params.get("range", "").strip()[:FIELD_CHARS]
        report = None
        if query:
            report = await run_in_threadpool(lambda: self.s.inventory.affected(query, range_spec or None, actor=actor))
        return self.web.render(request, "affected.html", q=query, range=range_spec, report=report)
