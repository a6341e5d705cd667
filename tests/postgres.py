"""A throwaway PostgreSQL server for the test run, from the machine's PostgreSQL binaries.

PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` system user
(``runuser``); as anyone else it runs as that user. Each pytest-xdist worker starts its own cluster
on a free port and stops it at the end of the session, even when tests fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SEARCH = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15", "14")]


def find_binaries() -> Path | None:
    configured = os.environ.get("HOIST_PG_BIN")
    candidates = [Path(configured)] if configured else SEARCH
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and (Path(found).parent / "initdb").exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    user: str = "hoist"

    def dsn(self, database: str) -> str:
        """For psycopg itself (no SQLAlchemy dialect prefix)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        data = self.root / "data"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", self.user, "--no-sync", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.root} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(data), "-l", str(self.root / "log"), "-o", options, "-w", "start")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start; see {self.root / 'log'}")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    bin_dir = find_binaries()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl) found; set HOIST_PG_BIN")
    root = Path(tempfile.mkdtemp(prefix="hoist-pg-"))
    os.chmod(root, 0o755)
    server = PostgresServer(bin_dir, root, free_port())
    server.start()
    return server
