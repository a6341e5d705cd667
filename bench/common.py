"""What the benchmarks share: servers started for one run, memory sampling, timing, a results table."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scripts.demo import free_port

HOIST = [sys.executable, "-m", "hoist"]
MiB = 1024 * 1024
GiB = 1024 * MiB


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, expect: int = 200) -> None:
    """Until ``url`` answers ``expect`` (401: a server that wants credentials is up too)."""
    deadline = time.monotonic() + 90  # workers import the whole app: slow on a busy machine
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError as exc:
            if exc.code == expect:
                return
            raise
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up:\n{log.read_text()}") from None
            time.sleep(0.1)


def settled(server: Server, timeout: float = 3600) -> None:
    """Until the server's job queue has nothing waiting or running (the SBOMs of what was pushed are
    made off the request path, by its in-process worker)."""
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {server.token}"}
    while True:
        with urllib.request.urlopen(urllib.request.Request(f"{server.url}/api/v1/jobs", headers=headers)) as answer:
            if json.load(answer)["pending"] == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.url}: jobs still pending after {timeout:.0f} s")
        time.sleep(0.5)


def default_root() -> Path:
    """tmpfs when the machine has one: disk write-back stalls otherwise dominate the figures and
    swing them by 2x between runs; set HOIST_BENCH_DIR to measure on a disk instead."""
    if "HOIST_BENCH_DIR" in os.environ:
        return Path(os.environ["HOIST_BENCH_DIR"])
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 8 * GiB:
        return shm / "hoist-bench"
    return Path(__file__).parent / ".work"


@contextmanager
def workdir() -> Iterator[Path]:
    root = default_root()
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    token: str | None = None
    """The secret of ``user``: Hoist's administrator's API token, or a reference's htpasswd password
    (``--defaults``); None for a reference without authentication."""
    user: str = "admin"

    @property
    def pids(self) -> list[int]:
        """The server process and its children (granian workers)."""
        return [self.process.pid, *children(self.process.pid)]


def hoist_env(server: Server) -> dict[str, str]:
    """What a `hoist` CLI process needs to reach ``server`` as its administrator."""
    assert server.token, "not a Hoist server"
    return {"HOIST_URL": server.url, "HOIST_TOKEN": server.token}


def bearer(server: Server) -> list[str]:
    """The header option (curl, wrk) that authenticates to ``server``; none for a reference server."""
    return ["-H", f"Authorization: Bearer {server.token}"] if server.token else []


def children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found += [int(entry.name), *children(int(entry.name))]
    return found


def new_admin_token() -> str:
    """A token for the first administrator, in the form ``hoist serve`` accepts in HOIST_ADMIN_TOKEN."""
    return "hoist_" + secrets.token_urlsafe(32)


@contextmanager
def hoist_server(data: Path, *, defaults: bool = False, **env: str) -> Iterator[Server]:
    """``hoist serve`` on an empty database (or one without users yet): it creates user ``admin``
    with a token made here, which the yielded ``Server`` carries for every client to use. Blob
    downloads go through its sendfile blob server; with ``defaults``, exactly as ``hoist serve``
    runs with no tuning (no variable set: its blob server on the next port, a worker per core)."""
    port = free_port(following=1)
    if not defaults:
        env = {"HOIST_BLOB_PORT": str(free_port()), **env}
    log = data.parent / f"hoist-{port}.log"
    token = new_admin_token()
    with log.open("w") as out:
        process = subprocess.Popen(
            [*HOIST, "serve", "--data", str(data), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "HOIST_ADMIN_TOKEN": token},
            start_new_session=True,  # its own process group, so its workers can be stopped with it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/api/v1/health", process, log)
        check_token(url, token, log)
        yield Server(url, process, token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # granian misses a stop that comes while a worker still starts
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def check_token(url: str, token: str, log: Path) -> None:
    """Fail now, with the server's log, if the server did not take the token (say, a database that
    already had users), rather than with 401s in the middle of a measurement."""
    request = urllib.request.Request(url + "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except OSError as exc:
        raise RuntimeError(f"{url} refused the admin token ({exc}):\n{log.read_text()}") from None


NGINX_CONF = """
daemon off;
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_max_body_size 0;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/files;
        location / {{
            dav_methods PUT;
            create_full_put_path on;
        }}
    }}
}}
"""


@contextmanager
def nginx_server(root: Path) -> Iterator[Server]:
    """The reference: a plain static file server (GET with sendfile, PUT through the DAV module)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is not installed: apt-get install nginx-core")
    port = free_port()
    (root / "files").mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    # as root, nginx workers would switch to www-data, which cannot read our private work folder
    user = "user root root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(root=root, port=port, user=user))
    log = root / "nginx.out"
    with log.open("w") as out:
        process = subprocess.Popen([binary, "-c", str(conf), "-p", str(root)], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_port(port, process, log)
        yield Server(url, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not come up:\n{log.read_text()}") from None
            time.sleep(0.05)


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


@dataclass
class MemorySampler:
    """Samples the summed RSS of a server's processes every ``interval`` seconds."""

    server: Server
    interval: float = 0.05
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> MemorySampler:
        pids = self.server.pids

        def run() -> None:
            while not self._stop.is_set():
                self.samples.append(rss_bytes(pids))
                time.sleep(self.interval)

        self.samples.append(rss_bytes(pids))
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    @property
    def baseline(self) -> int:
        return self.samples[0]

    @property
    def peak(self) -> int:
        return max(self.samples)


def timed(action: Callable[[], object]) -> float:
    os.sync()  # every timed step starts with nothing left to write back
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done  # type: ignore[no-any-return]


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        remaining = size
        while remaining:
            chunk = os.urandom(min(remaining, 16 * MiB))
            f.write(chunk)
            remaining -= len(chunk)
    return path


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def mb_per_s(size: int, seconds: float) -> str:
    return f"{size / seconds / 1e6:,.0f} MB/s"
