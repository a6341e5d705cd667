"""How every command prints a list for people: plain columns under capital headings, no box."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table


def columns(*headings: str, no_wrap: Collection[str] = ()) -> Table:
    """An empty table with these headings; ``no_wrap`` names the columns kept on one line (digests, versions).
    rich is imported when a command prints one, not when ``hoist`` starts."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for heading in headings:
        table.add_column(heading, no_wrap=heading in no_wrap)
    return table
