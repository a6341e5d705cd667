"""The README story, run step by step against a Hoist server, printing each command and its output.

    python scripts/demo.py                 # starts a fresh server in a temporary folder (make demo)
    python scripts/demo.py --url URL       # runs against a server that is already up

Every step states the exit code it expects (0 done, 3 refused), so the demo doubles as a check:
the end-to-end tests run exactly this story (tests/e2e/test_story.py).
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOIST = [sys.executable, "-m", "hoist"]
REFUSED = 3

STORY: list[tuple[str, int]] = [
    ("push shop-api build/shop-api.tgz --version 1.4.0-SNAPSHOT --build auto", 0),
    ("promote shop-api@1.4.0-SNAPSHOT+1 --to prod", REFUSED),
    ("push shop-api build/shop-api.tgz --version 1.4.0 --build auto", 0),
    ("attest shop-api@1.4.0+1 --type unit-tests --result pass", 0),
    ("promote shop-api@1.4.0+1 --to prod", 0),
    ("deploy shop-api@1.4.0+1 --env dev", 0),
    ("deploy shop-api@1.4.0+1 --env uat", 0),
    ("deploy shop-api@1.4.0+1 --env preprod", 0),
    ("deploy shop-api@1.4.0+1 --env prod", REFUSED),
    ("attest shop-api@1.4.0+1 --type acceptance --result pass --env preprod", 0),
    ("approve shop-api@1.4.0+1 --env prod --as someone-else", 0),
    ("deploy shop-api@1.4.0+1 --env prod", 0),
    ("# 1.4.1 the same way up to prod", 0),
    ("push shop-api build/shop-api.tgz --version 1.4.1 --build auto", 0),
    ("attest shop-api@1.4.1+1 --type unit-tests --result pass", 0),
    ("promote shop-api@1.4.1+1 --to prod", 0),
    ("deploy shop-api@1.4.1+1 --env dev", 0),
    ("deploy shop-api@1.4.1+1 --env uat", 0),
    ("deploy shop-api@1.4.1+1 --env preprod", 0),
    ("attest shop-api@1.4.1+1 --type acceptance --result pass --env preprod", 0),
    ("approve shop-api@1.4.1+1 --env prod --as someone-else", 0),
    ("deploy shop-api@1.4.1+1 --env prod --exec 'echo deploying $HOIST_VERSION from $HOIST_FILES'", 0),
    ("rollback --env prod shop-api --reason 'error rate up after 1.4.1'", 0),
    ("status", 0),
    ("history shop-api", 0),
    ("audit verify", 0),
    ("sbom affected log4j-core --range '<2.17.1'", 0),
    ("verify shop-api@1.4.0+1 --env prod", 0),
]


def run_story(url: str, workdir: Path, *, echo: bool = True) -> list[subprocess.CompletedProcess[str]]:
    """Run every step; raise AssertionError at the first step whose exit code is not the expected one."""
    build = workdir / "build"
    build.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOIST_URL": url}
    env.pop("HOIST_ACTOR", None)
    results = []
    for step, expected in STORY:
        if step.startswith("#"):
            if echo:
                print(f"\n{step}")
            continue
        if step.startswith("push"):  # each release is a new build output
            (build / "shop-api.tgz").write_bytes(os.urandom(4096))
        if echo:
            print(f"\n$ hoist {step}")
        done = subprocess.run(
            [*HOIST, *shlex.split(step)], cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        if echo:
            sys.stdout.write(done.stdout + done.stderr)
        if done.returncode != expected:
            raise AssertionError(
                f"'hoist {step}' exited {done.returncode}, expected {expected}:\n{done.stdout}{done.stderr}"
            )
        results.append(done)
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def fresh_server(data: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """A ``hoist serve`` of its own on a free port, stopped on exit."""
    port = free_port()
    log = (data / "server.log").open("w")
    server = subprocess.Popen(
        [*HOIST, "serve", "--data", str(data), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v1/health", timeout=1).close()  # noqa: S310 - loopback
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"hoist serve did not start:\n{(data / 'server.log').read_text()}") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="run against this server instead of a fresh one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoist-demo-") as tmp:
        workdir = Path(tmp)
        if args.url:
            run_story(args.url, workdir)
        else:
            (workdir / "data").mkdir()
            with fresh_server(workdir / "data") as url:
                print(f"# a fresh Hoist at {url}, data in {workdir / 'data'}")
                run_story(url, workdir)
    print("\nthe story ran as expected: every refusal refused, every step recorded, the audit chain intact")


if __name__ == "__main__":
    main()
