"""Vulnerability advisories: OSV records read, and versions matched against their ranges (adapter)."""
