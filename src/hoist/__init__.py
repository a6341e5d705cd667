"""Hoist: an artifact registry and promotion engine. Build once, promote the same bytes, prove it."""

__version__ = "0.1.0"
# Where clients look for a server unless told; here, so the CLI starts without importing the client.
DEFAULT_URL = "http://127.0.0.1:8080"
