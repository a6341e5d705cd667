"""The README story, run step by step against a Hoist server, printing each command and its output.

    python scripts/demo.py                 # starts a fresh server in a temporary folder (make demo)
    python scripts/demo.py --url URL       # runs against a server that is already up

Every step states who runs it (the administrator, or ``as NAME``) and the exit code it expects (0
done, 3 refused: by a gate, or because that identity lacks the right), so the demo doubles as a check:
the end-to-end tests run exactly this story (tests/e2e/test_story.py).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
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
    ("# the first `hoist serve` made 'admin'; admin makes a CI robot, a release robot, an approver and an operator", 0),
    ("user create ci --robot --role ci", 0),
    ("user create release --robot --role release", 0),
    ("user create ana --role approver", 0),
    ("user create ops --role operator", 0),
    ("access show", 0),
    ("as ci: push shop-api build/shop-api.tgz --version 1.4.0-SNAPSHOT --build auto", 0),
    ("as release: promote shop-api@1.4.0-SNAPSHOT+1 --to prod", REFUSED),
    ("as ci: push shop-api build/shop-api.tgz --version 1.4.0 --build auto", 0),
    ("as ci: attest shop-api@1.4.0+1 --type unit-tests --result pass", 0),
    ("as ci: promote shop-api@1.4.0+1 --to prod", REFUSED),
    ("as release: promote shop-api@1.4.0+1 --to prod", 0),
    ("as ci: deploy shop-api@1.4.0+1 --env dev", 0),
    ("as ci: deploy shop-api@1.4.0+1 --env uat", 0),
    ("as release: deploy shop-api@1.4.0+1 --env preprod", 0),
    ("as ops: deploy shop-api@1.4.0+1 --env prod", REFUSED),
    ("as release: attest shop-api@1.4.0+1 --type acceptance --result pass --env preprod", 0),
    ("as ana: approve shop-api@1.4.0+1 --env prod", 0),
    ("as ops: deploy shop-api@1.4.0+1 --env prod", 0),
    ("# 1.4.1 the same way up to prod", 0),
    ("as ci: push shop-api build/shop-api.tgz --version 1.4.1 --build auto", 0),
    ("as ci: attest shop-api@1.4.1+1 --type unit-tests --result pass", 0),
    ("as release: promote shop-api@1.4.1+1 --to prod", 0),
    ("as ci: deploy shop-api@1.4.1+1 --env dev", 0),
    ("as ci: deploy shop-api@1.4.1+1 --env uat", 0),
    ("as release: deploy shop-api@1.4.1+1 --env preprod", 0),
    ("as release: attest shop-api@1.4.1+1 --type acceptance --result pass --env preprod", 0),
    ("as ana: approve shop-api@1.4.1+1 --env prod", 0),
    ("as ops: deploy shop-api@1.4.1+1 --env prod --exec 'echo deploying $HOIST_VERSION from $HOIST_FILES'", 0),
    ("as ops: rollback --env prod shop-api --reason 'error rate up after 1.4.1'", 0),
    ("status", 0),
    ("history shop-api", 0),
    ("audit verify", 0),
    ("sbom affected log4j-core --range '<2.17.1'", 0),
    ("verify shop-api@1.4.0+1 --env prod", 0),
    ("# upkeep: what retention would keep and why, a rollback drill, the store checked, garbage", 0),
    ("retention plan --registry dev", 0),
    ("rollback --drill --env prod", 0),
    ("fsck", 0),
    ("gc --dry-run", 0),
]


def run_story(url: str, workdir: Path, admin_token: str, *, echo: bool = True) -> list[subprocess.CompletedProcess[str]]:
    """Run every step; raise AssertionError at the first step whose exit code is not the expected one.
    A step ``as NAME: ...`` runs with a token the administrator makes for NAME (shown as it happens)."""
    build = workdir / "build"
    build.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOIST_URL": url, "HOIST_CONFIG_DIR": str(workdir / "config")}
    tokens = {"admin": admin_token}
    results = []

    def hoist(args: list[str], who: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*HOIST, *args],
            cwd=workdir,
            env={**env, "HOIST_TOKEN": tokens[who]},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    for step, expected in STORY:
        if step.startswith("#"):
            if echo:
                print(f"\n{step}")
            continue
        who, sep, command = step.partition(": ")
        who, command = (who.removeprefix("as "), command) if sep and who.startswith("as ") else ("admin", step)
        if who not in tokens:
            made = hoist(["token", "create", "--user", who, "--description", "demo", "--json"], "admin")
            if made.returncode != 0:
                raise AssertionError(f"could not make a token for {who}:\n{made.stdout}{made.stderr}")
            tokens[who] = json.loads(made.stdout)["token"]
        if command.startswith("push"):  # each release is a new build output
            (build / "shop-api.tgz").write_bytes(os.urandom(4096))
        if echo:
            print(f"\n[{who}] $ hoist {command}")
        done = hoist(shlex.split(command), who)
        if echo:
            sys.stdout.write(done.stdout + done.stderr)
        if done.returncode != expected:
            raise AssertionError(
                f"'hoist {command}' as {who} exited {done.returncode}, expected {expected}:\n{done.stdout}{done.stderr}"
            )
        results.append(done)
    return results


def new_admin_token() -> str:
    return "hoist_" + secrets.token_urlsafe(32)


def free_port(following: int = 0) -> int:
    """A free loopback port, with the ``following`` ports after it free too (``hoist serve`` puts its
    blob server on the next one), so servers started side by side do not collide."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
            if port + following <= 65535 and all(_free(port + n) for n in range(1, following + 1)):
                return port


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextmanager
def fresh_server(data: Path, env: dict[str, str] | None = None, admin_token: str | None = None) -> Iterator[str]:
    """A ``hoist serve`` of its own on a free port, stopped on exit; its first administrator's token
    is ``admin_token`` (HOIST_ADMIN_TOKEN) when given."""
    port = free_port(following=1)
    log = (data / "server.log").open("w")
    server = subprocess.Popen(
        [*HOIST, "serve", "--data", str(data), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {}), **({"HOIST_ADMIN_TOKEN": admin_token} if admin_token else {})},
        start_new_session=True,  # its own process group: the workers go with it even when a stop goes wrong
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
            # granian misses a stop that arrives while a worker is still starting (seen on a loaded machine)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="run against this server instead of a fresh one (HOIST_TOKEN: an admin's token)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoist-demo-") as tmp:
        workdir = Path(tmp)
        if args.url:
            run_story(args.url, workdir, os.environ["HOIST_TOKEN"])
        else:
            (workdir / "data").mkdir()
            token = new_admin_token()
            with fresh_server(workdir / "data", admin_token=token) as url:
                print(f"# a fresh Hoist at {url}, data in {workdir / 'data'}")
                run_story(url, workdir, token)
    print("\nthe story ran as expected: every refusal refused, every step recorded, the audit chain intact")


if __name__ == "__main__":
    main()
