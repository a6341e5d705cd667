"""``/etc/os-release``: which distribution an image is, for the ``distro`` qualifier of OS package purls."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, replace

from hoist.sbom.packages import OS_TYPES, Package

_DEFAULT_NAMESPACE = {"deb": "debian", "apk": "alpine"}


@dataclass(frozen=True, slots=True)
class Distro:
    id: str
    version_id: str | None = None
    codename: str | None = None

    @property
    def qualifier(self) -> str | None:
        """``debian-12``, ``ubuntu-22.04``, ``alpine-3.18.4``."""
        version = self.version_id or self.codename
        return f"{self.id}-{version}" if version else None


def parse_os_release(data: bytes) -> Distro | None:
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            try:
                words = shlex.split(value)
            except ValueError:
                words = [value.strip("\"'")]
            fields[key] = words[0] if words else ""
    distro_id = fields.get("ID", "").strip().lower()
    if not distro_id:
        return None
    return Distro(distro_id, fields.get("VERSION_ID") or None, fields.get("VERSION_CODENAME") or None)


def apply_distro(packages: Iterable[Package], distro: Distro | None) -> list[Package]:
    """OS packages get the distribution as namespace and ``distro`` qualifier; others are unchanged."""
    return [_with_distro(package, distro) if package.type in OS_TYPES else package for package in packages]


def _with_distro(package: Package, distro: Distro | None) -> Package:
    if distro is None:
        return replace(package, namespace=_DEFAULT_NAMESPACE[package.type])
    placed = replace(package, namespace=distro.id)
    return placed.with_qualifiers(distro=distro.qualifier) if distro.qualifier else placed
