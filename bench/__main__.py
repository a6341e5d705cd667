"""Run every benchmark of this package in one go: ``python -m bench`` (``make bench``)."""

from __future__ import annotations

import sys

from bench import oci, promotion, transfer


def main() -> None:
    for name, module in (("promotion", promotion), ("transfer", transfer), ("oci", oci)):
        print(f"\n=== {name} ===", flush=True)
        sys.argv = [f"bench.{name}"]
        module.main()


if __name__ == "__main__":
    main()
