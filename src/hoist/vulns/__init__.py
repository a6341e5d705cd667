"""Vulnerability advisories: OSV records read, and versions matched against their ranges (adapter).

Pure library code: no HTTP, no database. Imports :mod:`hoist.domain` and third-party libraries
(univers for version ordering, packageurl-python for purls) only.
"""

from hoist.domain.inventory import Query
from hoist.vulns.cvss import cvss3_base_score
from hoist.vulns.ecosystems import (
    ECOSYSTEM_TO_PURL_TYPE,
    affected_key,
    component_key,
    component_keys,
    package_key,
    purl_type_for,
)
from hoist.vulns.matching import affects, fixed_in, parse_query, query_matches, same_package, version_affected
from hoist.vulns.osv import highest_severity, read_osv, read_osv_files
from hoist.vulns.ranges import Constraint, RangeSpec, parse_range

__all__ = [
    "ECOSYSTEM_TO_PURL_TYPE",
    "Constraint",
    "Query",
    "RangeSpec",
    "affected_key",
    "affects",
    "component_key",
    "component_keys",
    "cvss3_base_score",
    "fixed_in",
    "highest_severity",
    "package_key",
    "parse_query",
    "parse_range",
    "purl_type_for",
    "query_matches",
    "read_osv",
    "read_osv_files",
    "same_package",
    "version_affected",
]
