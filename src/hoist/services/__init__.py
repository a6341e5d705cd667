"""Use cases: upload, publish, promote, attest, approve, deploy, roll back, audit.

Plain synchronous Python over the store ports; one unit of work per use case, and the audit event
for a change is appended last inside the unit of work that makes it.
"""
