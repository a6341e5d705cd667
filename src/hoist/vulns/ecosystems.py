"""OSV ecosystems and package names, mapped onto purl types and the keys Hoist indexes components by.

An SBOM component is known by its purl: ``pkg:maven/org.apache.logging.log4j/log4j-core``; an OSV
record names the same package as ecosystem ``Maven``, name ``org.apache.logging.log4j:log4j-core``.
Both are reduced here to ``(purl type, key)``: ``("maven", "org.apache.logging.log4j/log4j-core")``,
where the key is what :attr:`hoist.domain.sbom.Component.key` gives for the component (lower-case,
``namespace/name``), so an index keyed by component keys can be looked up from an advisory.

Distribution packages carry the distribution as purl namespace (``pkg:deb/debian/openssl``,
``pkg:apk/alpine/musl``), so OSV ``Debian:12`` / ``openssl`` becomes ``("deb", "debian/openssl")``
and ``Ubuntu:22.04:LTS`` / ``openssl`` becomes ``("deb", "ubuntu/openssl")``.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from packageurl import PackageURL

from hoist.domain.advisories import Affected
from hoist.domain.sbom import Component

# OSV ecosystem (the part before any ":<suffix>") -> purl type.
ECOSYSTEM_TO_PURL_TYPE: Final[dict[str, str]] = {
    "PyPI": "pypi",
    "npm": "npm",
    "Maven": "maven",
    "Go": "golang",
    "crates.io": "cargo",
    "RubyGems": "gem",
    "NuGet": "nuget",
    "Packagist": "composer",
    "Hex": "hex",
    "Pub": "pub",
    "Hackage": "hackage",
    "CRAN": "cran",
    "ConanCenter": "conan",
    "SwiftURL": "swift",
    "GitHub Actions": "githubactions",
    "Bitnami": "bitnami",
    "Debian": "deb",
    "Ubuntu": "deb",
    "Alpine": "apk",
    "Wolfi": "apk",
    "Chainguard": "apk",
    "Alpaquita": "apk",
    "BellSoft Hardened Containers": "apk",
    "Red Hat": "rpm",
    "Rocky Linux": "rpm",
    "AlmaLinux": "rpm",
    "SUSE": "rpm",
    "openSUSE": "rpm",
    "Mageia": "rpm",
    "Photon OS": "rpm",
    "openEuler": "rpm",
    "Azure Linux": "rpm",
}

# Distribution ecosystems: the purl namespace their packages carry.
_DISTRO_NAMESPACE: Final[dict[str, str]] = {
    "Debian": "debian",
    "Ubuntu": "ubuntu",
    "Alpine": "alpine",
    "Wolfi": "wolfi",
    "Chainguard": "chainguard",
    "Alpaquita": "alpaquita",
    "BellSoft Hardened Containers": "bellsoft",
    "Red Hat": "redhat",
    "Rocky Linux": "rocky",
    "AlmaLinux": "almalinux",
    "SUSE": "suse",
    "openSUSE": "opensuse",
    "Mageia": "mageia",
    "Photon OS": "photon",
    "openEuler": "openeuler",
    "Azure Linux": "azurelinux",
}

DISTRO_TYPES: Final = frozenset({"deb", "apk", "rpm"})

_TYPE_BY_FOLDED: Final = {k.lower(): v for k, v in ECOSYSTEM_TO_PURL_TYPE.items()}
_DISTRO_BY_FOLDED: Final = {k.lower(): v for k, v in _DISTRO_NAMESPACE.items()}

_PEP503 = re.compile(r"[-_.]+")


def ecosystem_base(ecosystem: str) -> str:
    """``Debian:12`` -> ``Debian``; ``Maven:https://maven.google.com`` -> ``Maven``."""
    return ecosystem.split(":", 1)[0].strip()


def purl_type_for(ecosystem: str) -> str | None:
    """The purl type of an OSV ecosystem, or None for an ecosystem Hoist does not know."""
    base = ecosystem_base(ecosystem)
    return ECOSYSTEM_TO_PURL_TYPE.get(base) or _TYPE_BY_FOLDED.get(base.lower())


def package_key(purl_type: str, name: str, namespace: str | None = None) -> str:
    """The index key for a package: lower-case ``namespace/name``; PyPI names PEP 503-normalised."""
    purl_type = purl_type.lower()
    if purl_type == "pypi":
        name = _PEP503.sub("-", name)
    base = f"{namespace}/{name}" if namespace else name
    return base.lower()


def affected_key(affected: Affected) -> tuple[str, str]:
    """``(purl type, key)`` of the package an OSV ``affected[]`` entry names.

    The key equals :func:`component_key` of the same package (and :attr:`Component.key`, when
    the component's name is spelled as its purl spells it)."""
    return osv_package_key(affected.ecosystem, affected.name, affected.purl)


@functools.lru_cache(maxsize=1 << 14)
def osv_package_key(ecosystem: str, name: str, purl: str | None = None) -> tuple[str, str]:
    """:func:`affected_key` from the OSV ``package`` fields. An ecosystem Hoist does not know is
    mapped through the record's purl if it has one, else to its lower-cased name (matching nothing)."""
    base = ecosystem_base(ecosystem)
    purl_type = purl_type_for(ecosystem)
    name = name.strip()
    if purl_type is None:
        from_purl = _key_from_purl(purl)
        if from_purl is not None:
            return from_purl
        return (re.sub(r"\s+", "", base.lower()) or "unknown", name.lower())
    if purl_type == "maven":
        group, sep, artifact = name.partition(":")
        return (purl_type, package_key(purl_type, artifact, group) if sep else package_key(purl_type, name))
    distro = _DISTRO_NAMESPACE.get(base) or _DISTRO_BY_FOLDED.get(base.lower())
    if distro is not None:
        return (purl_type, package_key(purl_type, name, distro))
    return (purl_type, package_key(purl_type, name))


def component_key(component: Component) -> tuple[str, str]:
    """``(purl type, key)`` of a component, normalised the way :func:`affected_key` normalises."""
    return (component.type.lower(), package_key(component.type, component.name, component.namespace))


@functools.lru_cache(maxsize=1 << 16)
def component_keys(component: Component) -> tuple[tuple[str, str], ...]:
    """Every ``(purl type, key)`` an advisory may name this component by.

    The component's own key first; then, for a distribution package whose purl carries syft's
    ``upstream=<source>[@<version>]`` qualifier, the source package (OSV's Debian and Alpine
    records name source packages: ``glibc``, not ``libc6``). Index a component under all of them.
    """
    own = component_key(component)
    keys = [own]
    if own[0] in DISTRO_TYPES and component.purl:
        source = _upstream_name(component.purl)
        if source:
            candidate = (own[0], package_key(own[0], source, component.namespace))
            if candidate not in keys:
                keys.append(candidate)
    return tuple(keys)


def _key_from_purl(purl: str | None) -> tuple[str, str] | None:
    if not purl:
        return None
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    return (parsed.type.lower(), package_key(parsed.type, parsed.name, parsed.namespace))


def _upstream_name(purl: str) -> str | None:
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    qualifiers = parsed.qualifiers
    upstream = qualifiers.get("upstream") if isinstance(qualifiers, dict) else None
    if not upstream:
        return None
    name = str(upstream).partition("@")[0].strip()
    return name or None
