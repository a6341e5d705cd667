"""Who a set of credentials proves. Until users and tokens exist (the access-control issue), an
identity is what the client declares, exactly as ``--as`` / X-Hoist-Actor does: any username is
accepted and the secret is not checked. Actors it produces say so (``authenticated=False``)."""

from __future__ import annotations

from hoist.domain.models import Actor


class DeclaredIdentities:
    def authenticate(self, username: str, secret: str) -> Actor | None:  # noqa: ARG002 - see module docstring
        name = username.strip()
        if not name or len(name) > 255 or any(ord(c) < 32 for c in name):
            return None
        return Actor(name=name, kind="user", authenticated=False)
