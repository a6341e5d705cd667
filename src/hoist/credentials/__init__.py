"""Adapters for secrets users hold: password hashing."""
