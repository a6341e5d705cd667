"""The web UI's row of the edge table (``http/edge.py``): credentials come in the session cookie
(an API token, made at login), a POST from nobody is a login only at /ui/login, refusals are pages."""

from __future__ import annotations

import re

from hoist.http.edge import Credential, Edge
from hoist.web.render import COOKIE, LOGIN, PREFIX, error_page

WEB = Edge(
    PREFIX,
    error_page,
    frozenset({Credential.SESSION}),
    login="the login page",
    logins=re.compile(re.escape(LOGIN)),
    cookie=COOKIE,
)
