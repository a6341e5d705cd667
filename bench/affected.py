""" "Am I affected?" over 10,000 artifacts of 200 components each, answered from the component index,
on SQLite and on PostgreSQL in the same run. The reference is what the index replaces: reading every
stored SBOM and scanning its components (the same documents, parsed with the json module).

    python -m bench.affected [--artifacts 10000] [--components 200] [--queries 200]

Target: p50 under 50 ms on both databases (HTTP round trip through `hoist serve`).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench.common import hoist_server, table, workdir
from hoist.domain.digests import Digest
from hoist.domain.manifests import generic_manifest, parse_manifest
from hoist.domain.models import FileEntry, PlacementVia
from hoist.domain.sbom import Component, SbomDocument, SbomFormat
from hoist.domain.versions import Version
from hoist.metadata.sql.migrate import upgrade
from hoist.metadata.sql.store import SqlMetadataStore
from tests.postgres import start_server

TYPES = {"maven": "org.example.{}", "npm": "@scope{}", "pypi": None, "deb": "debian"}
POPULAR = ("log4j-core", "maven", "org.apache.logging.log4j")
LOG4J_SHARE = 0.1  # one artifact in ten carries log4j-core; the most common libraries are in nearly all


def pool(size: int, rng: random.Random) -> list[tuple[str, str, str | None]]:
    """Distinct packages: (type, name, namespace)."""
    found = []
    for i in range(size):
        kind = rng.choice(list(TYPES))
        template = TYPES[kind]
        namespace = template.format(i % 97) if template and "{}" in template else template
        found.append((f"pkg-{i}", kind, namespace))
    return [(kind, name, ns) for name, kind, ns in found]


def component(kind: str, name: str, namespace: str | None, version: str) -> Component:
    path = f"{namespace}/{name}" if namespace else name
    return Component(type=kind, name=name, version=version, namespace=namespace, purl=f"pkg:{kind}/{path}@{version}")


def cyclonedx(components: list[Component]) -> bytes:
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "components": [
                {"type": "library", "name": c.name, "group": c.namespace, "version": c.version, "purl": c.purl}
                for c in components
            ],
        }
    ).encode()


def populate(metadata: SqlMetadataStore, root: Path, artifacts: int, per: int, seed: int) -> tuple[float, list[Path]]:
    rng = random.Random(seed)
    packages = pool(20_000, rng)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(packages))]  # a few packages are everywhere
    documents = []
    now = datetime.now(UTC)
    start = time.perf_counter()
    batch = 250
    for first in range(0, artifacts, batch):
        with metadata.session() as s:
            for n in range(first, min(first + batch, artifacts)):
                package, version = f"app-{n % 1000}", Version.parse(f"1.{n // 1000}.0")
                picked = {packages[i] for i in rng.choices(range(len(packages)), weights, k=per * 2)}
                chosen = sorted(picked)[: per - 1]
                if rng.random() < LOG4J_SHARE:
                    chosen.append((POPULAR[1], POPULAR[0], POPULAR[2]))
                components = [
                    component(k, name, ns, f"{rng.randint(1, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}")
                    for k, name, ns in chosen
                ]
                document = cyclonedx(components)
                doc_path = root / f"sbom-{n}.json"
                doc_path.write_bytes(document)
                documents.append(doc_path)
                file = FileEntry("app.tgz", Digest.of(f"content {n}".encode()), 10, "application/octet-stream")
                manifest = parse_manifest(generic_manifest(package, version, [file]))
                s.manifests.add(manifest, now=now)
                s.artifacts.ensure_package(package, "generic", now=now)
                artifact = s.artifacts.add(
                    package=package,
                    format="generic",
                    version=version,
                    manifest=manifest,
                    ceiling="prod",
                    pushed_by="bench",
                    pushed_at=now,
                    pipeline=None,
                )
                s.placements.add(artifact.id, "dev", sealed=False, via=PlacementVia.PUSH, actor="bench", now=now)
                sbom = SbomDocument(SbomFormat.CYCLONEDX, "1.6", tuple(components), document)
                s.sboms.add(manifest.digest, Digest.of(document), sbom, now=now)
    return time.perf_counter() - start, documents


QUERIES = [
    ("name, in 10%", {"q": "log4j-core"}),
    ("name + range", {"q": "log4j-core", "range": "<2.17.1"}),
    ("purl, exact version", {"q": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}),
    ("name, in ~all", {"q": "pkg-5"}),
    ("name, rare", {"q": "pkg-15000"}),
    ("name, absent", {"q": "no-such-package"}),
]


def measure(database: str, root: Path, url: str | None, args: argparse.Namespace) -> tuple[list[list[str]], list[Path]]:
    database_url = url or f"sqlite:///{root / 'bench.db'}"
    metadata = SqlMetadataStore.from_url(database_url)
    upgrade(metadata.engine)
    load, documents = populate(metadata, root / database, args.artifacts, args.components, seed=7)
    rows = []
    with (
        hoist_server(root / f"data-{database}", HOIST_DATABASE_URL=database_url) as server,
        httpx.Client(
            base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {server.token}"}, timeout=60
        ) as http,
    ):
        for label, params in QUERIES:
            http.get("/affected", params=params).raise_for_status()  # warm
            latencies, hits = [], 0
            for _ in range(args.queries):
                start = time.perf_counter()
                response = http.get("/affected", params=params)
                latencies.append(time.perf_counter() - start)
                hits = len(response.json()["artifacts"])
            latencies.sort()
            p50 = statistics.median(latencies)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            rows.append(
                [database, label, str(hits), f"{p50 * 1000:.1f} ms", f"{p99 * 1000:.1f} ms", "yes" if p50 < 0.05 else "NO"]
            )
    metadata.engine.dispose()
    rows[0].append(f"(loaded {args.artifacts} x {args.components} in {load:.0f} s)")
    return rows, documents


def rescan(documents: list[Path], name: str) -> tuple[float, int]:
    """The reference: every SBOM read and scanned for the component."""
    start = time.perf_counter()
    hits = 0
    for path in documents:
        bom = json.loads(path.read_bytes())
        hits += any(c["name"] == name for c in bom["components"])
    return time.perf_counter() - start, hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=int, default=10_000)
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with workdir() as root:
        (root / "sqlite").mkdir()
        (root / "postgresql").mkdir()
        rows, documents = measure("sqlite", root, None, args)
        pg = start_server()
        try:
            with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
            pg_rows, _ = measure("postgresql", root, pg.url("bench"), args)
            rows += pg_rows
        finally:
            pg.stop()
        scans = [rescan(documents, "log4j-core") for _ in range(3)]
        reference = statistics.median(t for t, _ in scans)
    rows = [row + [""] * (7 - len(row)) for row in rows]
    print(
        table(
            f"affected query, {args.artifacts} artifacts x {args.components} components, {args.queries} queries each (HTTP)",
            ["database", "query", "artifacts", "p50", "p99", "p50 < 50 ms", "note"],
            rows,
        )
    )
    best = min(float(r[3].split()[0]) for r in rows if r[1] == "name, in 10%") / 1000
    print(
        f"reference: re-reading all {len(documents)} SBOMs for log4j-core: {reference:.2f} s "
        f"(median of 3, {scans[0][1]} hits); "
        f"index p50 (best database, same query) {best * 1000:.1f} ms = {reference / best:.0f}x faster"
    )


if __name__ == "__main__":
    main()
