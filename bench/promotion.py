"""Promotion latency for a 1 KiB and a 1 GiB artifact: promotion moves pointers, not bytes, so its
cost must not grow with size. For scale, the reference is what a copy-based promotion costs: the
same bytes downloaded from one plain file server (nginx) and uploaded to another, with curl.

    python -m bench.promotion [--versions 30] [--large-mib 1024]

Runs on SQLite (the embedded default) and, when PostgreSQL binaries are installed, on a throwaway
PostgreSQL server, both in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path

import psycopg

from bench.common import HOIST, MiB, Server, hoist_env, hoist_server, nginx_server, random_file, run, table, timed, workdir
from hoist.client import HoistClient
from tests.postgres import start_server


def publish_versions(client: HoistClient, package: str, blob: dict[str, object], count: int) -> list[str]:
    refs = []
    for i in range(count):
        a = client.publish(package=package, version=f"1.0.{i}", files=[{"name": "artifact.bin", **blob}])["artifact"]
        client.attest(f"{package}@{a['version']}", type="unit-tests", result="pass")
        refs.append(f"{package}@{a['version']}")
    return refs


def promote_all(client: HoistClient, refs: list[str]) -> list[float]:
    latencies = []
    for ref in refs:
        start = time.perf_counter()
        result = client.promote(ref, to="prod")
        latencies.append(time.perf_counter() - start)
        assert result["status"] == "promoted", result
    return latencies


def cli_promote(server: Server, refs: list[str]) -> list[float]:
    env = {**os.environ, **hoist_env(server)}
    return [timed(lambda ref=ref: run([*HOIST, "promote", ref, "--to", "prod"], env=env)) for ref in refs]


def measure(database: str, root: Path, small: Path, large: Path, versions: int, database_url: str | None) -> list[list[str]]:
    env = {"HOIST_DATABASE_URL": database_url} if database_url else {}
    rows = []
    with hoist_server(root / f"data-{database}", **env) as server, HoistClient(server.url, token=server.token) as client:
        for label, path in (("1 KiB", small), (f"{large.stat().st_size // MiB} MiB", large)):
            blob = client.upload(path)
            package = "small" if path == small else "large"
            refs = publish_versions(client, package, blob, versions + 5)
            api = promote_all(client, refs[:versions])
            cli = cli_promote(server, refs[versions:])
            rows.append(
                [
                    database,
                    label,
                    f"{statistics.median(api) * 1000:.1f} ms",
                    f"{sorted(api)[int(len(api) * 0.95) - 1] * 1000:.1f} ms",
                    f"{statistics.median(cli) * 1000:.0f} ms",
                ]
            )
    return rows


def copy_reference(root: Path, large: Path) -> float:
    """Copy-based 'promotion': download the bytes from one plain server and upload them to another."""
    with nginx_server(root / "nginx-src") as src, nginx_server(root / "nginx-dst") as dst:
        run(["curl", "-sf", "-T", str(large), f"{src.url}/artifact.bin"])
        pipeline = f"curl -sf {src.url}/artifact.bin | curl -sf -T - {dst.url}/artifact.bin"
        return min(timed(lambda: subprocess.run(pipeline, shell=True, check=True)) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=30, help="promotions timed per size and database")
    parser.add_argument("--large-mib", type=int, default=1024)
    args = parser.parse_args()
    with workdir() as root:
        small = random_file(root / "small.bin", 1024)
        large = random_file(root / "large.bin", args.large_mib * MiB)
        rows = measure("sqlite", root, small, large, args.versions, None)
        try:
            pg = start_server()
        except (FileNotFoundError, RuntimeError) as exc:
            print(f"(PostgreSQL skipped: {exc})")
        else:
            try:
                with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
                    conn.execute("CREATE DATABASE bench")
                rows += measure("postgresql", root, small, large, args.versions, pg.url("bench"))
            finally:
                pg.stop()
        copy = copy_reference(root, large)
    print(
        table(
            f"promotion latency, {args.versions} promotions per row (API: HTTP round trip; CLI: a whole `hoist promote` "
            "process)",
            ["database", "artifact", "API median", "API p95", "CLI median"],
            rows,
        )
    )
    by_size: dict[str, dict[str, float]] = {}
    for database, label, median_text, *_ in rows:
        by_size.setdefault(database, {})[label] = float(median_text.split()[0])
    for database, medians in by_size.items():
        small_ms, large_ms = medians["1 KiB"], next(v for k, v in medians.items() if k != "1 KiB")
        print(f"{database}: large/small median ratio {large_ms / small_ms:.2f} (1.00 = size does not matter)")
    print(
        f"reference, copy-based promotion of the {args.large_mib} MiB artifact (curl | curl via nginx): "
        f"{copy:.2f} s, best of 3"
    )


if __name__ == "__main__":
    main()
