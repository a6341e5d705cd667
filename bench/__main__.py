"""Run every benchmark of this package in one go: ``python -m bench`` (``make bench``)."""

from __future__ import annotations

import sys

from bench import affected, cli_startup, gc, oci, packages, promotion, sbom, transfer, web


def main() -> None:
    benchmarks = (
        ("promotion", promotion),
        ("transfer", transfer),
        ("oci", oci),
        ("packages", packages),
        ("affected", affected),
        ("web", web),
        ("sbom", sbom),
        ("gc", gc),
        ("cli_startup", cli_startup),
    )
    for name, module in benchmarks:
        print(f"\n=== {name} ===", flush=True)
        sys.argv = [f"bench.{name}"]
        module.main()


if __name__ == "__main__":
    main()
