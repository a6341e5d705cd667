"""Hoist's domain: versions, digests, names, policy, records and audit events. Pure: no I/O."""
