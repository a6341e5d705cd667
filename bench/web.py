"""The web UI's two busiest pages at scale: the environment board and an artifact page, with 1,000
packages x 50 versions each, placed and deployed across the four default environments, on SQLite and
on PostgreSQL in the same run. Each page is fetched as a browser does (session cookie, after a
login through the form), by a ``viewer`` (reads every registry, may change nothing).

    python -m bench.web [--packages 1000] [--versions 50] [--requests 30]

Per package: every version is in dev; the newest 40 were promoted to prod (sealed); dev and uat run
each of the newest 10 in turn, preprod and prod each of the newest 5: 30 deployments per package.

Reference: the JSON API reads a script would make for the same facts: ``GET /api/v1/status`` (what
runs where, the CLI's ``hoist status``) for the board, ``GET /api/v1/artifacts/<ref>`` and
``GET /api/v1/history?ref=`` for the artifact page. Target (issue 14): page p50 under 100 ms.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from bench.common import hoist_server, table, workdir
from hoist.client import HoistClient
from hoist.domain.digests import Digest
from hoist.domain.manifests import generic_manifest, parse_manifest
from hoist.domain.models import DeploymentKind, DeploymentStatus, FileEntry, PlacementVia
from hoist.domain.versions import Version
from hoist.metadata.sql.migrate import upgrade
from hoist.metadata.sql.store import SqlMetadataStore
from tests.postgres import start_server

PROMOTED = 40  # the newest versions of each package that reached prod
RUNS = {"dev": 10, "uat": 10, "preprod": 5, "prod": 5}  # how many of the newest versions ran in each


def populate(metadata: SqlMetadataStore, packages: int, versions: int) -> float:
    """The catalogue, written through the metadata repositories (as ``bench.affected`` does): what
    a year of pushes, promotions and deployments would leave."""
    start = time.perf_counter()
    origin = datetime.now(UTC) - timedelta(days=365)
    for p in range(packages):
        package = f"team-{p % 40}/service-{p}"
        with metadata.session() as s:
            s.artifacts.ensure_package(package, "generic", now=origin)
            made = []
            for v in range(versions):
                now = origin + timedelta(hours=v)
                file = FileEntry("app.tgz", Digest.of(f"{package} {v}".encode()), 1000 + v, "application/octet-stream")
                version = Version.parse(f"1.{v}.0")
                manifest = parse_manifest(generic_manifest(package, version, [file]))
                s.manifests.add(manifest, now=now)
                artifact = s.artifacts.add(
                    package=package,
                    format="generic",
                    version=version,
                    manifest=manifest,
                    ceiling="prod",
                    pushed_by="ci-bot",
                    pushed_at=now,
                    pipeline=None,
                )
                s.placements.add(artifact.id, "dev", sealed=False, via=PlacementVia.PUSH, actor="ci-bot", now=now)
                if v >= versions - PROMOTED:
                    later = now + timedelta(minutes=30)
                    s.placements.add(artifact.id, "prod", sealed=True, via=PlacementVia.PROMOTION, actor="rel", now=later)
                made.append(artifact)
            for environment, count in RUNS.items():
                for n, artifact in enumerate(made[-count:]):
                    s.deployments.add(
                        artifact,
                        environment,
                        status=DeploymentStatus.SUCCEEDED,
                        kind=DeploymentKind.DEPLOY,
                        actor="ops",
                        now=origin + timedelta(days=1, hours=n),
                        pipeline=None,
                        reason=None,
                    )
    return time.perf_counter() - start


def log_in(browser: httpx.Client, user: str, password: str) -> None:
    """A browser's session: the login form fetched, filled (with whatever hidden fields it carries)
    and posted; the session cookie then rides on every request."""
    form = browser.get("/ui/login").text
    fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    answer = browser.post("/ui/login", data={**fields, "username": user, "password": password})
    if answer.status_code != 303:
        raise RuntimeError(f"login refused: {answer.status_code} {answer.text[:300]}")


def timings(fetch: Callable[[int], httpx.Response], requests: int) -> tuple[float, float, int]:
    """(p50 s, p99 s, bytes of the last answer) over ``requests`` fetches, after one to warm up."""
    fetch(0).raise_for_status()
    seen, size = [], 0
    for i in range(requests):
        start = time.perf_counter()
        answer = fetch(i)
        seen.append(time.perf_counter() - start)
        answer.raise_for_status()
        size = len(answer.content)
    seen.sort()
    return statistics.median(seen), seen[min(len(seen) - 1, int(len(seen) * 0.99))], size


def measure(database: str, root: Path, url: str | None, args: argparse.Namespace) -> list[list[str]]:
    database_url = url or f"sqlite:///{root / f'{database}.db'}"
    metadata = SqlMetadataStore.from_url(database_url)
    upgrade(metadata.engine)
    load = populate(metadata, args.packages, args.versions)
    metadata.engine.dispose()
    refs = [f"team-{p % 40}/service-{p}@1.{args.versions - 1 - p % 7}.0" for p in range(0, args.packages, 7)]
    password = secrets.token_urlsafe(16)
    rows = []
    with hoist_server(root / f"data-{database}", HOIST_DATABASE_URL=database_url) as server:
        with HoistClient(server.url, token=server.token) as admin:
            admin.create_user("vic", password=password, grants=["role:viewer"])
            api_token = admin.create_token("vic", description="bench")["token"]
        with (
            httpx.Client(base_url=server.url, timeout=120) as browser,
            httpx.Client(base_url=server.url, timeout=120, headers={"Authorization": f"Bearer {api_token}"}) as api,
        ):
            log_in(browser, "vic", password)
            pages = {
                "board (/ui/)": lambda _: browser.get("/ui/"),
                "board, filtered (/ui/?q=service-1)": lambda _: browser.get("/ui/", params={"q": "service-1"}),
                "artifact page": lambda i: browser.get(f"/ui/artifacts/{refs[i % len(refs)]}"),
            }
            reference = {
                "board (/ui/)": lambda _: api.get("/api/v1/status"),
                "artifact page": lambda i: _both(api, refs[i % len(refs)]),
            }
            for label, fetch in pages.items():
                p50, p99, size = timings(fetch, args.requests)
                ref = f"{timings(reference[label], args.requests)[0] * 1000:.1f} ms" if label in reference else ""
                rows.append(
                    [
                        database,
                        label,
                        f"{size / 1024:.0f} KiB",
                        f"{p50 * 1000:.1f} ms",
                        f"{p99 * 1000:.1f} ms",
                        ref,
                        "yes" if p50 < 0.1 else "NO",
                    ]
                )
    rows[0].append(f"(loaded {args.packages} x {args.versions} in {load:.0f} s)")
    return rows


def _both(api: httpx.Client, ref: str) -> httpx.Response:
    api.get(f"/api/v1/artifacts/{ref}").raise_for_status()
    return api.get("/api/v1/history", params={"ref": ref})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    args = parser.parse_args()
    if args.versions <= PROMOTED:
        parser.error(f"--versions must be more than {PROMOTED}")
    rows: list[list[str]] = []
    with workdir() as root:
        if "sqlite" in args.databases:
            rows += measure("sqlite", root, None, args)
        if "postgresql" in args.databases:
            pg = start_server()
            try:
                with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
                    conn.execute("CREATE DATABASE bench")
                rows += measure("postgresql", root, pg.url("bench"), args)
            finally:
                pg.stop()
    rows = [row + [""] * (8 - len(row)) for row in rows]
    print(
        table(
            f"web UI pages, {args.packages} packages x {args.versions} versions, {args.requests} requests each",
            ["database", "page", "size", "p50", "p99", "API reference p50", "p50 < 100 ms", "note"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
