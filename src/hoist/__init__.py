"""Hoist: an artifact registry and promotion engine. Build once, promote the same bytes, prove it."""

__version__ = "0.1.0"
