"""``python -m hoist`` is the ``hoist`` command."""

from hoist.cli.main import main

main()
