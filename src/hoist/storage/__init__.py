"""Blob stores: filesystem and in-memory (S3 when it lands)."""
