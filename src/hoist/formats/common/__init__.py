"""Pieces every package protocol shares: checksums, errors, body ingest, file responses."""
