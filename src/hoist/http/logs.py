"""The server's log lines: JSON objects, one per line (what log shippers read), or plain text for a
person at a terminal; each carries the id of the request it belongs to, when there is one."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from hoist.domain.requests import REQUEST_ID

FORMATS = ("auto", "json", "text")


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{text} [request {request_id}]" if request_id else text


def resolve(kind: str, stream: object | None = None) -> str:
    """``json`` or ``text``: ``auto`` is text when standard error is a terminal, JSON otherwise (a
    service manager, a container, a file)."""
    if kind != "auto":
        return kind
    out = stream if stream is not None else sys.stderr
    return "text" if getattr(out, "isatty", lambda: False)() else "json"


def granian_config(kind: str) -> dict[str, Any] | None:
    """The ASGI server's own lines (start, stop, worker exits) in the same shape: a ``logging``
    dictConfig for Granian, or None to keep its text."""
    if resolve(kind) != "json":
        return None
    formatter = {"()": f"{__name__}.JsonLines"}
    handler = {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": formatter},
        "handlers": {"json": handler},
        "loggers": {
            "_granian": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }


def configure(kind: str = "auto", *, stream: object | None = None) -> None:
    """Hoist's loggers write to standard error, as ``json`` or ``text`` lines (``auto``: see ``resolve``)."""
    out = stream if stream is not None else sys.stderr
    kind = resolve(kind, out)
    handler = logging.StreamHandler(out)  # type: ignore[arg-type]
    handler.addFilter(_RequestId())
    handler.setFormatter(JsonLines() if kind == "json" else _Text("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("hoist")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
