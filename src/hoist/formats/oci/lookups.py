"""The reads behind the pull hot path (``formats/oci/hot.py``): a manifest by tag or digest and a
tags list, from ``HotReads`` (single indexed statements) and an in-process cache of manifests by
digest. Each answers None for anything it does not find, and the full /v2 routes then say precisely
what is wrong; so these only ever speed up what the full path would also answer.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from hoist.domain.errors import HoistError
from hoist.domain.policy import Policy
from hoist.domain.ports import HotReads
from hoist.domain.tags import Tag

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")


@dataclass(frozen=True, slots=True)
class ManifestBytes:
    raw: bytes
    media_type: str
    digest: str


class ManifestCache:
    """Manifests by digest are immutable: keep the most recently served ones in memory (per process;
    nothing to invalidate, so it is safe with any number of workers and hosts)."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._items: OrderedDict[str, ManifestBytes] = OrderedDict()
        self._bytes = 0
        self._max_entries, self._max_bytes = max_entries, max_bytes
        self._lock = threading.Lock()

    def get(self, digest: str) -> ManifestBytes | None:
        with self._lock:
            found = self._items.get(digest)
            if found is not None:
                self._items.move_to_end(digest)
            return found

    def put(self, item: ManifestBytes) -> None:
        with self._lock:
            if item.digest in self._items:
                return
            self._items[item.digest] = item
            self._bytes += len(item.raw)
            while len(self._items) > self._max_entries or self._bytes > self._max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old.raw)


@functools.lru_cache(maxsize=4096)
def _parse_tag(name: str) -> Tag:
    return Tag.parse(name)


def tag_list(versions: Iterable[str], movable: Iterable[str]) -> list[str]:
    """A repository's tags list: its versions spelt as tags (``Version.tag``: ``1.4.0+58`` is
    ``1.4.0_58``, without parsing each stored version again) and its movable tags, sorted."""
    return sorted({v.replace("+", "_") for v in versions} | set(movable))


class HotLookups:
    def __init__(self, hot: HotReads, policy: Policy) -> None:
        self._hot = hot
        self._policy = policy
        self._cache = ManifestCache()

    @property
    def local(self) -> bool:
        return self._hot.local

    def manifest(self, registry: str, package: str, reference: str) -> ManifestBytes | None:
        """A manifest by tag or digest in a few indexed reads, or None for anything not found."""
        reg = self._policy.registries.get(registry)
        if reg is None or reg.require_signature_to_pull:  # the full path checks signatures
            return None
        hot = self._hot
        if ":" in reference:
            if not _DIGEST.fullmatch(reference) or not hot.has_manifest(registry, package, reference):
                return None
            digest = reference
        else:
            try:
                tag = _parse_tag(reference)
            except HoistError:
                return None
            found = (
                hot.version_digest(registry, package, tag.version.canonical)
                if tag.version is not None
                else hot.tag_digest(registry, package, reference)
            )
            if found is None:
                return None
            digest = found
        cached = self._cache.get(digest)
        if cached is None:
            stored = hot.manifest(digest)
            if stored is None:
                return None
            cached = ManifestBytes(stored[0], stored[1], digest)
            self._cache.put(cached)
        return cached

    def tags(self, registry: str, package: str) -> list[str] | None:
        """The tags list, sorted; None when the repository has none (the full path decides between
        an empty list and NAME_UNKNOWN)."""
        if registry not in self._policy.registries:
            return None
        versions, movable = self._hot.names(registry, package)
        return tag_list(versions, movable) if versions or movable else None
