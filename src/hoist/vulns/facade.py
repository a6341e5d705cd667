"""The vulnerability adapter behind the :class:`hoist.domain.inventory.AdvisoryMatcher` port."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from hoist.domain.advisories import Advisory, Affected
from hoist.domain.inventory import Query
from hoist.domain.sbom import Component
from hoist.vulns import ecosystems, matching, osv, ranges


class OsvMatcher:
    """OSV records in, version-range decisions out. Stateless; its caches are module-level."""

    def read_files(self, paths: Iterable[Path]) -> Iterator[Advisory]:
        return osv.read_osv_files(paths)

    def affected_key(self, affected: Affected) -> tuple[str, str]:
        return ecosystems.affected_key(affected)

    def component_keys(self, component: Component) -> tuple[tuple[str, str], ...]:
        """Every (purl type, key) an advisory may name the component by (its own, then its source package)."""
        return ecosystems.component_keys(component)

    def affects(self, affected: Affected, component: Component) -> bool:
        return matching.affects(affected, component)

    def fixed_in(self, affected: Affected, component: Component) -> str | None:
        return matching.fixed_in(affected, component)

    def parse_range(self, spec: str, purl_type: str | None) -> ranges.RangeSpec:
        return ranges.parse_range(spec, purl_type)

    def parse_query(self, text: str) -> Query:
        return matching.parse_query(text)
