"""Fixtures the functional tests of the web UI share."""

from tests.functional.web_helpers import browser

__all__ = ["browser"]
