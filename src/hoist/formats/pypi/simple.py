"""The simple repository API as text: PEP 503 HTML and PEP 691 JSON at API version 1.1 (PEP 700),
with yanks (PEP 592) and core metadata links (PEP 658, spelled both ways per PEP 714), and the
content negotiation PEP 691 asks for."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any, Literal

API_VERSION = "1.1"
JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"

Rendering = Literal["json", "html"]

# What each acceptable media type gives, and its rank among equal q-values (most specific first):
# a client that names our JSON with the same weight as HTML gets JSON.
_OFFERS: dict[str, tuple[Rendering, str, int]] = {
    JSON: ("json", JSON, 0),
    "application/vnd.pypi.simple.latest+json": ("json", JSON, 0),
    HTML: ("html", HTML, 1),
    "application/vnd.pypi.simple.latest+html": ("html", HTML, 1),
    TEXT_HTML: ("html", TEXT_HTML, 2),
    "text/*": ("html", TEXT_HTML, 3),
    "*/*": ("html", TEXT_HTML, 3),
}


def negotiate(accept: str | None) -> tuple[Rendering, str] | None:
    """The rendering and Content-Type for an Accept header; None when nothing offered is acceptable
    (a 406). No Accept header means HTML, as PEP 691 says for clients that predate it."""
    if not accept or not accept.strip():
        return "html", TEXT_HTML
    best: tuple[float, int, Rendering, str] | None = None
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        offer = _OFFERS.get(media.strip().lower())
        if offer is None:
            continue
        q = _quality(params)
        if q <= 0:
            continue
        rendering, content_type, rank = offer
        if best is None or (q, -rank) > (best[0], -best[1]):
            best = (q, rank, rendering, content_type)
    return None if best is None else (best[2], best[3])


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One file link of a project page."""

    filename: str
    url: str  # relative to the project page, without the fragment
    sha256: str
    size: int
    upload_time: datetime
    requires_python: str | None
    core_metadata_sha256: str | None  # None: no metadata file is served
    yanked: str | None  # None: not yanked; "" yanked without a reason


def project_list(projects: Iterable[str], rendering: Rendering) -> str:
    names = sorted(projects)
    if rendering == "json":
        return _json({"meta": _meta(), "projects": [{"name": n} for n in names]})
    links = "".join(f'    <a href="{escape(n)}/">{escape(n)}</a><br>\n' for n in names)
    return _page("Simple index", links)


def project_page(project: str, versions: Sequence[str], files: Sequence[IndexFile], rendering: Rendering) -> str:
    ordered = sorted(files, key=lambda f: f.filename)
    if rendering == "json":
        files_json = [_file_json(f) for f in ordered]
        return _json({"meta": _meta(), "name": project, "versions": list(versions), "files": files_json})
    links = "".join(_file_link(f) for f in ordered)
    return _page(f"Links for {escape(project)}", links)


def _meta() -> dict[str, str]:
    return {"api-version": API_VERSION}


def _file_json(f: IndexFile) -> dict[str, Any]:
    metadata: dict[str, str] | bool = {"sha256": f.core_metadata_sha256} if f.core_metadata_sha256 else False
    out: dict[str, Any] = {
        "filename": f.filename,
        "url": f.url,
        "hashes": {"sha256": f.sha256},
        "size": f.size,
        "upload-time": _time(f.upload_time),
        "core-metadata": metadata,
        "dist-info-metadata": metadata,  # PEP 714: older clients read the old key
        "yanked": (f.yanked or True) if f.yanked is not None else False,
    }
    if f.requires_python is not None:
        out["requires-python"] = f.requires_python
    return out


def _file_link(f: IndexFile) -> str:
    attrs = [f'href="{escape(f.url)}#sha256={f.sha256}"']
    if f.requires_python is not None:
        attrs.append(f'data-requires-python="{escape(f.requires_python)}"')
    if f.core_metadata_sha256:
        attrs.append(f'data-dist-info-metadata="sha256={f.core_metadata_sha256}"')
        attrs.append(f'data-core-metadata="sha256={f.core_metadata_sha256}"')
    if f.yanked is not None:
        attrs.append(f'data-yanked="{escape(f.yanked)}"')
    return f"    <a {' '.join(attrs)}>{escape(f.filename)}</a><br>\n"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n{body}  </body>\n</html>\n"
    )


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=False)
