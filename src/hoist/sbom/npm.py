"""npm packages: ``package.json`` of a package, and lock files (``package-lock.json``, ``npm-shrinkwrap.json``)."""

from __future__ import annotations

from typing import Any

from hoist.domain.errors import HoistError
from hoist.domain.jsonlimits import PACKAGE_FILE_BYTES, read_json
from hoist.sbom.packages import Package, valid

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")


def npm_package(name: str, version: str) -> Package | None:
    """``@scope/name`` -> ``pkg:npm/%40scope/name@version`` (the scope is the purl namespace)."""
    scope, sep, bare = name.rpartition("/")
    if sep and not scope.startswith("@"):
        return None
    package = Package("npm", bare, version, namespace=scope or None)
    return package if valid(package) else None


def parse_package_json(data: bytes) -> Package | None:
    """The package a ``package.json`` describes; None when it has no name and version (test fixtures, ``"type"`` stubs)."""
    document = _json(data)
    if not isinstance(document, dict):
        return None
    name, version = document.get("name"), document.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None
    return npm_package(name, version)


def parse_lockfile(data: bytes) -> list[Package]:
    """Every locked package: lockfile v2/v3 ``packages`` (flat, keyed by install path), else v1 ``dependencies`` (nested)."""
    document = _json(data)
    if not isinstance(document, dict):
        return []
    packages = document.get("packages")
    if isinstance(packages, dict):
        return _from_packages(packages)
    dependencies = document.get("dependencies")
    return _from_v1(dependencies) if isinstance(dependencies, dict) else []


def _from_packages(packages: dict[str, Any]) -> list[Package]:
    found = []
    for path, entry in packages.items():
        if not path or not isinstance(entry, dict) or entry.get("link"):
            continue  # "" is the project itself; links point at another entry that carries the version
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            name = path.rsplit("node_modules/", 1)[-1]
        version = entry.get("version")
        if isinstance(version, str) and version:
            package = npm_package(name, version)
            if package:
                found.append(package)
    return found


def _from_v1(dependencies: dict[str, Any]) -> list[Package]:
    found = []
    stack = [dependencies]
    while stack:
        for name, entry in stack.pop().items():
            if not isinstance(entry, dict):
                continue
            version = entry.get("version")
            if isinstance(version, str) and version and not version.startswith(("file:", "link:")):
                real_name, real_version = _alias(name, version)
                package = npm_package(real_name, real_version)
                if package:
                    found.append(package)
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                stack.append(nested)
    return found


def _alias(name: str, version: str) -> tuple[str, str]:
    """v1 aliases: ``"version": "npm:real-name@1.2.3"``."""
    if version.startswith("npm:"):
        target = version[4:]
        real, sep, real_version = target.rpartition("@")
        if sep and real:
            return real, real_version
    return name, version


def _json(data: bytes) -> object:
    try:
        return read_json(data, limit=PACKAGE_FILE_BYTES)
    except HoistError:  # an unreadable package file contributes no components
        return None
