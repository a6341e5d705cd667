"""What an npm request path names, below ``/npm/<registry>/`` (decoded: ``@scope%2fname`` and
``@scope/name`` are one name). npm builds these paths in npm-registry-fetch, libnpmpublish,
npm-profile and @npmcli/arborist; every path here is one of theirs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hoist.domain.errors import NotFound
from hoist.domain.names import clip
from hoist.domain.packages import validate_npm_name

USER_PREFIX = "org.couchdb.user:"


class Kind(StrEnum):
    PACKAGE = "package"  # GET packument, PUT publish / deprecate, DELETE (-rev) unpublish
    VERSION = "version"  # GET one version's manifest (a version or a dist-tag)
    TARBALL = "tarball"  # GET the tarball; DELETE (-rev) after an unpublish's PUT
    DIST_TAGS = "dist-tags"  # GET all, PUT/DELETE one (tag set)
    PING = "ping"
    WHOAMI = "whoami"
    USER = "user"  # npm login / adduser (CouchDB shape)
    WEB_LOGIN = "web-login"  # npm's web login: not offered, so npm falls back to the CouchDB shape
    AUDIT_BULK = "audit-bulk"
    AUDIT_QUICK = "audit-quick"


@dataclass(frozen=True, slots=True)
class Target:
    kind: Kind
    name: str = ""
    file: str = ""  # tarball file name
    tag: str = ""  # dist-tag, or the version/tag of a VERSION request
    user: str = ""
    rev: str | None = None  # a CouchDB revision npm sends back on writes (not checked: see routes)


_FIXED = {
    "-/ping": Kind.PING,
    "-/whoami": Kind.WHOAMI,
    "-/v1/login": Kind.WEB_LOGIN,
    "-/npm/v1/security/advisories/bulk": Kind.AUDIT_BULK,
    "-/npm/v1/security/audits/quick": Kind.AUDIT_QUICK,
}


def parse(path: str) -> Target:
    """The target of ``path`` (what follows ``/npm/<registry>/``), or NotFound naming the path."""
    path = path.strip("/")
    if path in _FIXED:
        return Target(_FIXED[path])
    if path.startswith("-/user/"):
        user = path.removeprefix("-/user/")
        if user.startswith(USER_PREFIX) and "/" not in user.removeprefix(USER_PREFIX):
            return Target(Kind.USER, user=user.removeprefix(USER_PREFIX))
        raise _unknown(path)
    if path.startswith("-/package/"):
        return _dist_tags(path.removeprefix("-/package/"), path)
    if path.startswith("-"):
        raise _unknown(path)
    rest, rev = _rev(path)
    name, remainder = _name(rest, path)
    if not remainder:
        return Target(Kind.PACKAGE, name, rev=rev)
    if remainder.startswith("-/") and remainder.count("/") == 1:
        return Target(Kind.TARBALL, name, file=remainder.removeprefix("-/"), rev=rev)
    if "/" not in remainder and rev is None:
        return Target(Kind.VERSION, name, tag=remainder)
    raise _unknown(path)


def _rev(path: str) -> tuple[str, str | None]:
    head, sep, rev = path.rpartition("/-rev/")
    return (head, rev) if sep and rev and "/" not in rev else (path, None)


def _name(path: str, whole: str) -> tuple[str, str]:
    """(package name, what follows it) for a path that starts with a package name."""
    parts = path.split("/")
    count = 2 if parts[0].startswith("@") else 1
    if len(parts) < count:
        raise _unknown(whole)
    return validate_npm_name("/".join(parts[:count])), "/".join(parts[count:])


def _dist_tags(rest: str, whole: str) -> Target:
    name, remainder = _name(rest, whole)
    if remainder == "dist-tags":
        return Target(Kind.DIST_TAGS, name)
    tag = remainder.removeprefix("dist-tags/")
    if tag != remainder and tag and "/" not in tag:
        return Target(Kind.DIST_TAGS, name, tag=tag)
    raise _unknown(whole)


def _unknown(path: str) -> NotFound:
    return NotFound(f"no npm endpoint at {clip(path)!r}")
