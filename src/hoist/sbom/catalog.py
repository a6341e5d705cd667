"""Which files inside an artifact say which packages it holds, and how each one is read.

Paths are relative to the archive (or image root) they are in, without a leading ``./`` or ``/``."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from hoist.sbom import alpine, debian, java, npm, python
from hoist.sbom.packages import Package

METADATA_LIMIT = 64 * 1024 * 1024  # a metadata file larger than this is not read (real dpkg databases are a few MB)

_NESTED = (*java.JAVA_ARCHIVES, ".whl", ".zip", ".tar", ".tgz", ".tar.gz")


class Evidence(Enum):
    DIST_INFO = "python dist-info METADATA"
    EGG_INFO = "python egg-info PKG-INFO"
    SDIST = "python sdist PKG-INFO"
    NPM_ROOT = "npm tarball package.json"
    NPM_INSTALLED = "node_modules package.json"
    NPM_LOCK = "npm lock file"
    POM = "maven pom.properties"
    DPKG = "dpkg status"
    DPKG_D = "dpkg status.d"
    APK = "apk installed database"
    OS_RELEASE = "os-release"
    ARCHIVE = "nested archive"


def normalise(path: str) -> str:
    while path.startswith(("./", "/")):
        path = path[2:] if path.startswith("./") else path[1:]
    return path.rstrip("/")


def classify(path: str, *, image: bool) -> Evidence | None:
    """What ``path`` is evidence of. In an image only installed packages count (no lock files or
    sdist/npm-tarball roots) and only Java archives are opened; in a file, any nested archive is."""
    parts = path.split("/")
    base = parts[-1]
    parent = parts[-2] if len(parts) > 1 else ""
    if base == "package.json":
        return _package_json(parts, image=image)
    return _python(base, parent, len(parts), image=image) or _other(path, parts, image=image)


def _python(base: str, parent: str, depth: int, *, image: bool) -> Evidence | None:
    if base == "METADATA" and parent.endswith(".dist-info"):
        return Evidence.DIST_INFO
    if base == "PKG-INFO" and parent.endswith(".egg-info"):
        return Evidence.EGG_INFO
    if base == "PKG-INFO" and depth == 2 and not image:
        return Evidence.SDIST
    if base.endswith(".egg-info") and parent in ("site-packages", "dist-packages"):
        return Evidence.EGG_INFO  # the single-file form that distutils installs
    return None


def _other(path: str, parts: list[str], *, image: bool) -> Evidence | None:
    base = parts[-1]
    if base in npm.LOCKFILES and not image and "node_modules" not in parts:
        return Evidence.NPM_LOCK
    if base == "pom.properties" and len(parts) >= 5 and parts[-4] == "maven" and parts[-5] == "META-INF":
        return Evidence.POM
    return _system(path, parts) or _archive(base, image=image)


def _package_json(parts: list[str], *, image: bool) -> Evidence | None:
    if len(parts) >= 3 and parts[-3] == "node_modules" and not parts[-2].startswith((".", "@")):
        return Evidence.NPM_INSTALLED
    if len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@"):
        return Evidence.NPM_INSTALLED
    if parts == ["package", "package.json"] and not image:
        return Evidence.NPM_ROOT
    return None


def _system(path: str, parts: list[str]) -> Evidence | None:
    if path == "var/lib/dpkg/status":
        return Evidence.DPKG
    if len(parts) == 5 and path.startswith("var/lib/dpkg/status.d/") and "." not in parts[-1]:
        return Evidence.DPKG_D  # <package> files; skip <package>.md5sums and the like
    if path == "lib/apk/db/installed":
        return Evidence.APK
    if path in ("etc/os-release", "usr/lib/os-release"):
        return Evidence.OS_RELEASE
    return None


def _archive(base: str, *, image: bool) -> Evidence | None:
    lower = base.lower()
    if lower.endswith(java.JAVA_ARCHIVES if image else _NESTED):
        return Evidence.ARCHIVE
    return None


def _one(found: Package | None) -> list[Package]:
    return [found] if found else []


_PARSERS: dict[Evidence, Callable[[bytes, str], list[Package]]] = {
    Evidence.DIST_INFO: lambda data, _: _one(python.parse_core_metadata(data)),
    Evidence.EGG_INFO: lambda data, _: _one(python.parse_core_metadata(data)),
    Evidence.SDIST: lambda data, _: _one(python.parse_core_metadata(data)),
    Evidence.NPM_ROOT: lambda data, _: _one(npm.parse_package_json(data)),
    Evidence.NPM_INSTALLED: lambda data, _: _one(npm.parse_package_json(data)),
    Evidence.NPM_LOCK: lambda data, _: npm.parse_lockfile(data),
    Evidence.POM: lambda data, path: _one(java.parse_pom_properties(data, path)),
    Evidence.DPKG: lambda data, _: debian.parse_status(data),
    Evidence.DPKG_D: lambda data, _: debian.parse_status(data, require_status=False),
    Evidence.APK: lambda data, _: alpine.parse_installed(data),
}


def parse(evidence: Evidence, data: bytes, path: str) -> list[Package]:
    """The packages one metadata file lists (none for ``OS_RELEASE`` and ``ARCHIVE``)."""
    parser = _PARSERS.get(evidence)
    return parser(data, path) if parser else []


def is_root_identity(evidence: Evidence, path: str) -> bool:
    """Whether this file names the archive itself: a wheel's own dist-info, an sdist's PKG-INFO,
    an npm tarball's package.json, a jar's own pom.properties (not a vendored or nested one)."""
    depth = path.count("/")
    return (
        (evidence is Evidence.DIST_INFO and depth == 1)
        or evidence in (Evidence.SDIST, Evidence.NPM_ROOT)
        or (evidence is Evidence.POM and path.startswith("META-INF/maven/") and depth == 4)
    )
