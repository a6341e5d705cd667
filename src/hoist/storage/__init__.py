"""Blob stores: filesystem, in-memory and S3."""
