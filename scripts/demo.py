"""The README story, read from README.md and run step by step against a Hoist server, printing
each command and its output.

    python scripts/demo.py                 # starts a fresh server in a temporary folder (make demo)
    python scripts/demo.py --url URL       # runs against a server that is already up

The story's ``hoist`` lines run as written, as the identity the story last switched to
(``export HOIST_TOKEN=$CI_TOKEN`` makes it ci, ``unset HOIST_TOKEN`` the administrator whose
token ``hoist login`` saved), each expected to exit 0, or 3 where its comment says ``(exit 3)``;
other shell lines (the tokens, the build output) are what the demo does itself. So the demo doubles
as a check that the README can be followed verbatim: the end-to-end tests run it
(tests/e2e/test_story.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOIST = [sys.executable, "-m", "hoist"]
README = Path(__file__).resolve().parents[1] / "README.md"
REFUSED = 3
ADMIN = "admin"
_COMMENT = re.compile(r"\s{2,}#\s?")


@dataclass(frozen=True, slots=True)
class Step:
    """One ``hoist`` command of the story (``args`` after ``hoist``), run as ``who``."""

    who: str
    command: str
    expected: int


@dataclass(frozen=True, slots=True)
class Ran:
    step: Step
    result: subprocess.CompletedProcess[str]


def story(readme: str) -> list[Step | str]:
    """The README's story block as steps; comment lines stay as headings (strings)."""
    block = readme.split("## The story", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    who = ADMIN
    out: list[Step | str] = []
    for line in block.splitlines():
        code, comment = [*_COMMENT.split(line, maxsplit=1), ""][:2]
        code = code.strip()
        if code.startswith("#"):
            out.append(code)
        elif code.startswith("export HOIST_TOKEN=$"):
            who = code.removeprefix("export HOIST_TOKEN=$").removesuffix("_TOKEN").lower()
        elif code == "unset HOIST_TOKEN":
            who = ADMIN
        elif code.startswith("hoist "):
            expected = REFUSED if "(exit 3)" in comment else 0
            out += [Step(who, part.strip().removeprefix("hoist "), expected) for part in code.split(" ; ")]
    return out


def run_story(url: str, workdir: Path, admin_token: str, *, echo: bool = True) -> list[Ran]:
    """Run every step; raise AssertionError at the first step whose exit code is not the expected one."""
    build = workdir / "build"
    build.mkdir(parents=True, exist_ok=True)
    (build / "shop-api.tgz").write_bytes(os.urandom(4096))  # the story's stand-in build output
    env = {k: v for k, v in os.environ.items() if k != "HOIST_TOKEN"}
    env |= {"HOIST_URL": url, "HOIST_CONFIG_DIR": str(workdir / "config")}
    tokens: dict[str, str] = {}
    ran: list[Ran] = []

    def hoist(args: list[str], who: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        as_who = {} if who == ADMIN else {"HOIST_TOKEN": tokens[who]}  # admin: the token `hoist login` saved
        return subprocess.run(
            [*HOIST, *args],
            cwd=workdir,
            env={**env, **as_who},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    for step in story(README.read_text()):
        if isinstance(step, str):
            if echo:
                print(f"\n{step}")
            continue
        if step.who != ADMIN and step.who not in tokens:  # what the story's token() does
            made = hoist(
                ["token", "create", "--user", step.who, "--description", f"{step.who} in the story", "--json"], ADMIN
            )
            if made.returncode != 0:
                raise AssertionError(f"could not make a token for {step.who}:\n{made.stdout}{made.stderr}")
            tokens[step.who] = json.loads(made.stdout)["token"]
        if echo:
            print(f"\n[{step.who}] $ hoist {step.command}")
        pasted = admin_token + "\n" if step.command == "login" else None  # pasted at the prompt
        done = hoist(shlex.split(step.command), step.who, pasted)
        if echo:
            sys.stdout.write(done.stdout + done.stderr)
        if done.returncode != step.expected:
            raise AssertionError(
                f"'hoist {step.command}' as {step.who} exited {done.returncode}, expected {step.expected}:\n"
                f"{done.stdout}{done.stderr}"
            )
        ran.append(Ran(step, done))
    return ran


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
def fresh_server(
    data: Path, env: dict[str, str] | None = None, admin_token: str | None = None, args: Sequence[str] = ()
) -> Iterator[str]:
    """A ``hoist serve [args]`` of its own on a free port, stopped on exit; its first administrator's token
    is ``admin_token`` (HOIST_ADMIN_TOKEN) when given. A port found free can be taken by another
    process before the server binds it (tests run side by side): then it starts again on others."""
    with serving(data, env, admin_token, args) as (url, _):
        yield url


@contextmanager
def serving(
    data: Path, env: dict[str, str] | None = None, admin_token: str | None = None, args: Sequence[str] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``fresh_server``, with the server's process (to signal it)."""
    for attempt in range(5):
        port = free_port(following=1)
        log = (data / "server.log").open("w")
        server = subprocess.Popen(
            [*HOIST, "serve", "--data", str(data), "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {}), **({"HOIST_ADMIN_TOKEN": admin_token} if admin_token else {})},
            start_new_session=True,  # its own process group: the workers go with it even when a stop goes wrong
        )
        url = f"http://127.0.0.1:{port}"
        try:
            if _started(url, server, data / "server.log", last=attempt == 4):
                yield url, server
                return
        finally:
            _stop(server)
            log.close()


def _started(url: str, server: subprocess.Popen[bytes], log: Path, *, last: bool) -> bool:
    """True once ``url`` answers; False when the server gave up because its port was taken meanwhile."""
    deadline = time.monotonic() + 90  # a loaded 2-core CI box can take long to start granian workers
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v1/health", timeout=1).close()  # noqa: S310 - loopback
            return True
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                text = log.read_text()
                if server.poll() is not None and "address already in use" in text and not last:
                    return False
                raise RuntimeError(f"hoist serve did not start:\n{text}") from None
            time.sleep(0.1)


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # granian misses a stop that arrives while a worker is still starting (seen on a loaded machine)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


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
