"""Does an advisory affect a component? And what does a user's ``PURL-or-name`` query mean?

Matching is two steps: the same package (purl type and key, see :mod:`hoist.vulns.ecosystems`),
then the component's version in ``affected.versions`` or inside one of ``affected.ranges``
(:mod:`hoist.vulns.ranges`). A component without a version, or with a version its ecosystem
cannot parse, is not matched; nothing here raises for a bad version.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from packageurl import PackageURL

from hoist.domain.advisories import Affected
from hoist.domain.errors import InvalidInput
from hoist.domain.inventory import Query
from hoist.domain.sbom import Component
from hoist.vulns.ecosystems import DISTRO_TYPES, affected_key, component_key, component_keys, package_key
from hoist.vulns.ranges import fixed_versions, in_osv_range, osv_events, range_scheme
from hoist.vulns.versions import ParsedVersion, parse_version, scheme_for

_QUERY_EXAMPLES: Final = (
    "give a package URL (pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1), a name (log4j-core), "
    "group:artifact (org.apache.logging.log4j:log4j-core) or @scope/name (@angular/core)"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-+~/]*$")


def same_package(affected: Affected, component: Component) -> bool:
    """Whether the ``affected[]`` entry names the component's package (version not considered)."""
    a_type, a_key = affected_key(affected)
    keys = component_keys(component)
    if (a_type, a_key) in keys:
        return True
    if a_type in DISTRO_TYPES and not component.namespace and component.type.lower() == a_type:
        # a distribution package whose purl lacks the distro namespace: compare names only
        name = a_key.rpartition("/")[2]
        return any(key.rpartition("/")[2] == name for _, key in keys)
    return False


def affects(affected: Affected, component: Component) -> bool:
    """Same package, and the component's version is listed in ``versions`` or falls inside one of
    the ``SEMVER``/``ECOSYSTEM`` ranges (``GIT`` ranges are ignored: they need a commit graph)."""
    if not component.version or not component.version.strip():
        return False
    return same_package(affected, component) and version_affected(affected, component.version)


def version_affected(affected: Affected, version: str) -> bool:
    """The version half of :func:`affects`: ``version`` is listed in, or in a range of, the entry.
    Compared with the ordering of the entry's ecosystem."""
    version = version.strip()
    if not version:
        return False
    if version in affected.versions or _normalised(version) in _listed(affected.versions):
        return True
    purl_type = affected_key(affected)[0]
    for range_ in affected.ranges:
        scheme, events = _matchable(range_, purl_type)
        if scheme is None or events is None:
            continue
        parsed = parse_version(scheme, version)
        if parsed is not None and in_osv_range(parsed, scheme, events):
            return True
    return False


def fixed_in(affected: Affected, component: Component) -> str | None:
    """The lowest ``fixed`` version above the component's version in a range that affects it: what
    to upgrade to. None if the component is not affected by a range or no fix is recorded."""
    if not affects(affected, component) or component.version is None:
        return None
    purl_type = affected_key(affected)[0]
    candidates: list[ParsedVersion] = []
    for range_ in affected.ranges:
        scheme, events = _matchable(range_, purl_type)
        if scheme is None or events is None:
            continue
        parsed = parse_version(scheme, component.version)
        if parsed is None or not in_osv_range(parsed, scheme, events):
            continue
        candidates.extend(fix for fix in fixed_versions(scheme, events) if fix > parsed)
    if not candidates:
        return None
    best: ParsedVersion = min(candidates)
    return best.text


def _matchable(range_: object, purl_type: str) -> tuple[str | None, tuple[tuple[str, str], ...] | None]:
    if not isinstance(range_, dict):
        return None, None
    kind = range_.get("type")
    scheme = range_scheme(kind, purl_type) if isinstance(kind, str) else None
    if scheme is None:
        return None, None
    return scheme, osv_events(range_)


@functools.lru_cache(maxsize=1 << 12)
def _listed(versions: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_normalised(v) for v in versions)


def _normalised(version: str) -> str:
    return version.strip().lower().removeprefix("v")


# --- queries ---------------------------------------------------------------------------------


def query_matches(query: Query, component: Component) -> bool:
    """Whether the component is the package a :func:`parse_query` result asks for (and the version,
    if one was given). A typed query compares ``(type, key)`` (the source package of a distribution
    package counts, see :func:`component_keys`); a bare name compares the name, or ``namespace/name``,
    in every ecosystem. Versions are compared in the component's ecosystem (``3.0 == 3.0.0`` in PyPI)."""
    if query.type is not None:
        if component.type.lower() != query.type:
            return False
        if not any(key == query.key for _, key in component_keys(component)):
            return False
    else:
        wanted = package_key(component.type, query.key)
        own = component_key(component)[1]
        if wanted not in (own, package_key(component.type, component.name)):
            return False
    return query.version is None or _same_version(query.version, component)


def parse_query(text: str) -> Query:
    """What ``hoist sbom affected PURL-or-name`` asks for, as a :class:`Query`: ``type`` is the purl
    type, or None for a bare name (matched by name in every ecosystem); ``key`` is the index key
    (lower-case ``namespace/name``, as :attr:`Component.key`); ``version`` is an exact version or
    None for any; ``name`` is the name without namespace, as written.

    Accepts a purl (``pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1``: that package, exactly that
    version), a bare name (``log4j-core``, optionally ``log4j-core@2.14.1``: that name in any
    ecosystem), ``group:artifact[:version]`` (Maven) or ``@scope/name[@version]`` (npm).
    Raises InvalidInput for anything else."""
    query = text.strip()
    if not query:
        raise InvalidInput(f"no package given: {_QUERY_EXAMPLES}")
    if any(c.isspace() for c in query):
        raise InvalidInput(f"{text!r} is not a package (it contains spaces): {_QUERY_EXAMPLES}")
    if query[:4].lower() == "pkg:":
        return _purl_query(query)
    if query.startswith("@"):
        body, at, version = query[1:].partition("@")
        scope, slash, name = body.partition("/")
        if not scope or not slash or not name or "/" in name or (at and not version):
            raise InvalidInput(
                f"{text!r} is not an npm package: write @scope/name or @scope/name@version, e.g. @angular/core@17.0.0"
            )
        _check_name(name, text)
        _check_name(scope, text)
        return Query(type="npm", key=package_key("npm", name, f"@{scope}"), version=version or None, name=name)
    if ":" in query:
        parts = query.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidInput(
                f"{text!r} is not a Maven package: write group:artifact or group:artifact:version, "
                "e.g. org.apache.logging.log4j:log4j-core:2.14.1 (or give a package URL starting with pkg:)"
            )
        group, artifact = parts[0], parts[1]
        _check_name(group, text)
        _check_name(artifact, text)
        return Query(
            type="maven",
            key=package_key("maven", artifact, group),
            version=parts[2] if len(parts) == 3 else None,
            name=artifact,
        )
    name, at, version = query.partition("@")
    if not name or (at and not version):
        raise InvalidInput(f"{text!r} is not a package: {_QUERY_EXAMPLES}")
    _check_name(name, text)
    return Query(type=None, key=name.lower(), version=version or None, name=name.rpartition("/")[2])


def _purl_query(text: str) -> Query:
    try:
        purl = PackageURL.from_string("pkg:" + text[4:])  # the scheme is case-insensitive
    except ValueError as exc:
        reason = str(exc).rstrip(".")
        raise InvalidInput(
            f"{text!r} is not a valid package URL: {reason}; write pkg:<type>/<namespace>/<name>@<version>, "
            "e.g. pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        ) from None
    purl_type = purl.type.lower()
    return Query(
        type=purl_type,
        key=package_key(purl_type, purl.name, purl.namespace),
        version=purl.version or None,
        name=purl.name,
    )


def _check_name(name: str, text: str) -> None:
    if not _NAME.match(name):
        raise InvalidInput(f"{text!r} is not a package: {name!r} is not a package name; {_QUERY_EXAMPLES}")


def _same_version(version: str, component: Component) -> bool:
    if component.version is None:
        return False
    if component.version.strip() == version.strip():
        return True
    scheme = scheme_for(component.type)
    wanted, have = parse_version(scheme, version), parse_version(scheme, component.version)
    return wanted is not None and have is not None and wanted == have
