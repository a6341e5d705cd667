"""Shared pieces of the format rooms: error shapes, checksums, streaming a body into the blob store."""
