"""Package protocols benchmark: the real npm, pip and Maven clients against Hoist's native views and
against the servers teams run today, in one run, with ratios.

    python -m bench.packages [--packages 50] [--runs 3] [--wrk-seconds 5] [--formats npm,pypi,maven] [--json]

Per format, the same ``--packages`` packages are published to the peer and to Hoist (through Hoist's
own protocol into dev, then attested and promoted to prod: every read goes to prod), then:

- install: a cold-cache install/resolve of all of them by the real client, wall time, median of
  ``--runs``: ``npm install`` with a fresh cache; ``pip download --no-deps --no-cache-dir``; ``mvn -B
  compile`` of a consumer pom naming all of them, with a fresh local repository holding only the
  build's plugins;
- index: requests per second under ``wrk -t2 -c8`` on one package's packument (abbreviated, as
  ``npm install`` asks), simple index page (with pip's Accept) and ``maven-metadata.xml``.

Peers: verdaccio 6.8 (npm; installed once into ~/.cache/hoist-bench with the node-fetch override),
pypiserver (PyPI; with twine, in a venv there), and nginx serving the same Maven files (PUT through
its DAV module, as a Maven deploy sends them). Hoist runs as ``hoist serve`` with its defaults, and
every read carries a read-only (``viewer``) token: npm's ``_authToken``, Basic for pip and Maven
(preemptive). The peers run without authentication, as their recipes set them up.

Ratios: install = Hoist time / peer time (target at most 1.00), index = Hoist rate / peer rate
(target at least 2.00). The peer and Hoist take turns going first.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import Server, free_port, hoist_server, median, nginx_server, run, table, timed, wait_for, workdir
from hoist.client import HoistClient

CACHE = Path.home() / ".cache" / "hoist-bench"
VERDACCIO = CACHE / "verdaccio"
PYPI_VENV = CACHE / "pypi-venv"
VERSION = "1.0.0"
GROUP = "org.hoist.bench"
PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
NPM_ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
READER = "bench-reader"


@dataclass(frozen=True)
class Side:
    """One server as a format's clients see it: where to publish, where to read, with what."""

    name: str
    publish_url: str
    read_url: str
    publish_auth: tuple[str, str] | None  # (user, secret)
    read_auth: tuple[str, str] | None


class Format(ABC):
    """What a format's benchmark does; each format fills it in."""

    name = ""
    peer = ""
    accept: str | None = None

    def __init__(self, root: Path, count: int) -> None:
        self.root = root
        self.names = [self.package_name(i) for i in range(count)]

    def package_name(self, i: int) -> str:
        return f"bench-pkg-{i:02d}"

    @abstractmethod
    def peer_server(self) -> AbstractContextManager[Server]: ...

    @abstractmethod
    def peer_side(self, server: Server) -> Side: ...

    @abstractmethod
    def hoist_side(self, url: str, admin: tuple[str, str], reader: tuple[str, str]) -> Side: ...

    @abstractmethod
    def hoist_refs(self) -> list[str]: ...

    def build(self) -> None:  # noqa: B027 - a hook: a format with nothing to build beforehand leaves it
        """Make the packages once, locally; both sides get the same bytes."""

    @abstractmethod
    def publish(self, side: Side) -> None: ...

    @abstractmethod
    def install(self, side: Side, run_id: str) -> Callable[[], object]:
        """The timed action: a cold install of every package from ``side``."""
        ...

    @abstractmethod
    def index_path(self) -> str: ...


# -- npm ---------------------------------------------------------------------------------------------

VERDACCIO_CONF = """storage: {root}/storage
plugins: {root}/plugins
listen: 127.0.0.1:{port}
web: {{enable: false}}
auth: {{htpasswd: {{file: {root}/htpasswd, max_users: -1}}}}
uplinks: {{}}
packages:
  '**': {{access: $all, publish: $all, unpublish: $all}}
publish: {{allow_offline: true}}
log: {{type: stdout, format: pretty, level: error}}
"""


class Npm(Format):
    name, peer, accept = "npm", "verdaccio 6.8", NPM_ACCEPT

    @contextmanager
    def peer_server(self) -> Iterator[Server]:
        binary = VERDACCIO / "node_modules" / ".bin" / "verdaccio"
        if not binary.exists():
            raise RuntimeError(
                f"verdaccio is not installed: see REAL_CLIENTS §4 (npm install in {VERDACCIO} with the node-fetch override)"
            )
        port, home = free_port(), self.root / "verdaccio"
        home.mkdir(parents=True)
        (home / "config.yaml").write_text(VERDACCIO_CONF.format(root=home, port=port))
        log = home / "verdaccio.log"
        with log.open("w") as out:
            process = subprocess.Popen([str(binary), "--config", str(home / "config.yaml")], stdout=out, stderr=out)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(url + "/-/ping", process, log)
            yield Server(url, process)
        finally:
            process.terminate()
            process.wait(timeout=30)

    def peer_side(self, server: Server) -> Side:
        return Side(self.peer, server.url + "/", server.url + "/", ("anyone", "dummy"), None)

    def hoist_side(self, url: str, admin: tuple[str, str], reader: tuple[str, str]) -> Side:
        return Side("hoist", f"{url}/npm/dev/", f"{url}/npm/prod/", admin, reader)

    def hoist_refs(self) -> list[str]:
        return [f"npm/{n}@{VERSION}" for n in self.names]

    def build(self) -> None:
        for name in self.names:
            folder = self.root / "npm-src" / name
            folder.mkdir(parents=True)
            manifest = {"name": name, "version": VERSION, "main": "index.js", "license": "MIT"}
            (folder / "package.json").write_text(json.dumps(manifest))
            (folder / "index.js").write_text(f"module.exports = () => {name!r};\n")

    def _npmrc(self, url: str, auth: tuple[str, str] | None, tag: str) -> Path:
        rc = self.root / f"npmrc-{tag}"
        lines = [f"//{url.removeprefix('http://')}:_authToken={auth[1]}"] if auth else []
        rc.write_text("".join(line + "\n" for line in lines))
        return rc

    def publish(self, side: Side) -> None:
        rc = self._npmrc(side.publish_url, side.publish_auth, f"publish-{side.name}")

        def one(name: str) -> None:
            run(
                [
                    "npm",
                    "publish",
                    str(self.root / "npm-src" / name),
                    "--registry",
                    side.publish_url,
                    "--userconfig",
                    str(rc),
                ]
            )

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, self.names))

    def install(self, side: Side, run_id: str) -> Callable[[], object]:
        consumer = self.root / f"npm-consumer-{run_id}"
        consumer.mkdir()
        deps = dict.fromkeys(self.names, VERSION)
        (consumer / "package.json").write_text(json.dumps({"name": "consumer", "private": True, "dependencies": deps}))
        rc = self._npmrc(side.read_url, side.read_auth, f"read-{run_id}")
        command = ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--registry", side.read_url]
        command += ["--userconfig", str(rc), "--cache", str(consumer / "cache")]
        return lambda: run(command, cwd=consumer)

    def index_path(self) -> str:
        return self.names[0]


# -- PyPI --------------------------------------------------------------------------------------------


def pypi_tools() -> Path:
    """The peer (pypiserver) and the upload client (twine), in their own venv, made once."""
    if not (PYPI_VENV / "bin" / "pypi-server").exists() or not (PYPI_VENV / "bin" / "twine").exists():
        run([sys.executable, "-m", "venv", str(PYPI_VENV)])
        run([str(PYPI_VENV / "bin" / "pip"), "install", "--quiet", "pypiserver", "twine"])
    return PYPI_VENV / "bin"


def wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal, valid pure-Python wheel (what ``python -m build`` makes, minus ~5 s per package)."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"NAME = {name!r}\n".encode(),
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: Hoist benchmark package\n"
            "Requires-Python: >=3.8\n"
        ).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: hoist-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\n"
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    target = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
    return target


class Pypi(Format):
    name, peer, accept = "pypi", "pypiserver", PIP_ACCEPT

    @contextmanager
    def peer_server(self) -> Iterator[Server]:
        tools, port, home = pypi_tools(), free_port(), self.root / "pypiserver"
        (home / "packages").mkdir(parents=True)
        log = home / "pypiserver.log"
        command = [str(tools / "pypi-server"), "run", "-i", "127.0.0.1", "-p", str(port), "-a", ".", "-P", "."]
        with log.open("w") as out:
            process = subprocess.Popen([*command, str(home / "packages")], stdout=out, stderr=out)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(url + "/simple/", process, log)
            yield Server(url, process)
        finally:
            process.terminate()
            process.wait(timeout=30)

    def peer_side(self, server: Server) -> Side:
        return Side(self.peer, server.url + "/", server.url + "/simple/", ("anyone", "dummy"), None)

    def hoist_side(self, url: str, admin: tuple[str, str], reader: tuple[str, str]) -> Side:
        return Side("hoist", f"{url}/pypi/dev/", f"{url}/pypi/prod/simple/", admin, reader)

    def hoist_refs(self) -> list[str]:
        return [f"pypi/{n}@{VERSION}" for n in self.names]

    def build(self) -> None:
        dist = self.root / "dist"
        dist.mkdir()
        for name in self.names:
            wheel(dist, name, VERSION)

    def publish(self, side: Side) -> None:
        user, secret = side.publish_auth or ("anyone", "dummy")
        twine = [str(pypi_tools() / "twine"), "upload", "--non-interactive", "--disable-progress-bar"]
        run(
            [
                *twine,
                "--repository-url",
                side.publish_url,
                "-u",
                user,
                "-p",
                secret,
                *map(str, (self.root / "dist").iterdir()),
            ]
        )

    def install(self, side: Side, run_id: str) -> Callable[[], object]:
        url = side.read_url
        if side.read_auth:
            url = url.replace("http://", f"http://{side.read_auth[0]}:{side.read_auth[1]}@", 1)
        out = self.root / f"pip-{run_id}"
        command = [str(pypi_tools() / "pip"), "download", "--isolated", "--no-deps", "--no-cache-dir", "-q"]
        command += [
            "--disable-pip-version-check",
            "-d",
            str(out),
            "--index-url",
            url,
            *(f"{n}=={VERSION}" for n in self.names),
        ]
        return lambda: run(command)

    def index_path(self) -> str:
        return f"{self.names[0]}/"


# -- Maven -------------------------------------------------------------------------------------------

POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version><packaging>jar</packaging>
{more}</project>
"""
METADATA = """<?xml version="1.0" encoding="UTF-8"?>
<metadata><groupId>{group}</groupId><artifactId>{artifact}</artifactId><versioning><latest>{version}</latest>
<release>{version}</release><versions><version>{version}</version></versions><lastUpdated>20261204101112</lastUpdated>
</versioning></metadata>
"""
CONSUMER = """<properties><maven.compiler.source>17</maven.compiler.source><maven.compiler.target>17</maven.compiler.target>
<project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
<repositories><repository><id>bench</id><url>{url}</url><snapshots><enabled>false</enabled></snapshots></repository></repositories>
<dependencies>{dependencies}</dependencies>
<build><plugins>
<plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
<plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
</plugins></build>
"""
# Plugins come from the machine's own cache (no Maven Central here) through a file:// mirror;
# the bench repository's credentials go with every request (preemptive), not after a 401.
SETTINGS = """<settings><mirrors><mirror><id>machine-cache</id><mirrorOf>central</mirrorOf>
<url>file://{m2}</url></mirror></mirrors>
<servers><server><id>bench</id><username>{user}</username><password>{secret}</password>
<configuration><httpConfiguration><all><usePreemptive>true</usePreemptive></all></httpConfiguration></configuration>
</server></servers></settings>
"""


def jar(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: hoist-bench\n")
        z.writestr(f"{name}.txt", f"{name}\n")
    return buffer.getvalue()


class Maven(Format):
    name, peer = "maven", "nginx (static files)"

    def package_name(self, i: int) -> str:
        return f"bench-lib-{i:02d}"

    def peer_server(self) -> AbstractContextManager[Server]:
        return nginx_server(self.root / "nginx")

    def peer_side(self, server: Server) -> Side:
        return Side(self.peer, server.url + "/", server.url + "/", None, None)

    def hoist_side(self, url: str, admin: tuple[str, str], reader: tuple[str, str]) -> Side:
        return Side("hoist", f"{url}/maven/dev/", f"{url}/maven/prod/", admin, reader)

    def hoist_refs(self) -> list[str]:
        return [f"maven/{GROUP}:{n}@{VERSION}" for n in self.names]

    def _files(self, artifact: str) -> list[tuple[str, bytes]]:
        """What ``mvn deploy:deploy-file`` PUTs, in its order: jar, pom, then the artifact's metadata,
        each followed by its .sha1 and .md5."""
        base = f"{GROUP.replace('.', '/')}/{artifact}"
        fields = {"group": GROUP, "artifact": artifact, "version": VERSION}
        files = [
            (f"{base}/{VERSION}/{artifact}-{VERSION}.jar", jar(artifact)),
            (f"{base}/{VERSION}/{artifact}-{VERSION}.pom", POM.format(**fields, more="").encode()),
            (f"{base}/maven-metadata.xml", METADATA.format(**fields).encode()),
        ]
        out = []
        for path, data in files:
            out += [(path, data), (path + ".sha1", hashlib.sha1(data).hexdigest().encode())]
            out.append((path + ".md5", hashlib.md5(data).hexdigest().encode()))
        return out

    def publish(self, side: Side) -> None:
        with httpx.Client(auth=side.publish_auth, timeout=60) as http:
            for artifact in self.names:
                for path, data in self._files(artifact):
                    http.put(side.publish_url + path, content=data).raise_for_status()

    def _seed(self) -> Path:
        """A local repository holding only the plugins a compile needs, made once (a consumer with no
        dependencies, resolved from the machine's cache); each timed run starts from a copy."""
        seed = self.root / "m2-seed"
        if not seed.exists():
            project = self.root / "maven-seed-project"
            project.mkdir()
            more = CONSUMER.format(url="file:///nonexistent", dependencies="")
            (project / "pom.xml").write_text(POM.format(group=GROUP, artifact="seed", version=VERSION, more=more))
            settings = project / "settings.xml"
            settings.write_text(SETTINGS.format(m2=Path.home() / ".m2" / "repository", user="-", secret="-"))
            run(["mvn", "-B", "-q", "-s", str(settings), f"-Dmaven.repo.local={seed}", "compile"], cwd=project)
        return seed

    def install(self, side: Side, run_id: str) -> Callable[[], object]:
        project = self.root / f"maven-consumer-{run_id}"
        project.mkdir()
        deps = "".join(
            f"<dependency><groupId>{GROUP}</groupId><artifactId>{n}</artifactId><version>{VERSION}</version></dependency>"
            for n in self.names
        )
        more = CONSUMER.format(url=side.read_url, dependencies=deps)
        (project / "pom.xml").write_text(POM.format(group=GROUP, artifact="consumer", version=VERSION, more=more))
        user, secret = side.read_auth or ("-", "-")
        settings = project / "settings.xml"
        settings.write_text(SETTINGS.format(m2=Path.home() / ".m2" / "repository", user=user, secret=secret))
        local = project / "m2"
        shutil.copytree(self._seed(), local)
        return lambda: run(["mvn", "-B", "-q", "-s", str(settings), f"-Dmaven.repo.local={local}", "compile"], cwd=project)

    def index_path(self) -> str:
        return f"{GROUP.replace('.', '/')}/{self.names[0]}/maven-metadata.xml"


FORMATS: dict[str, type[Format]] = {"npm": Npm, "pypi": Pypi, "maven": Maven}


# -- the run ------------------------------------------------------------------------------------------


def wrk_rate(url: str, auth: tuple[str, str] | None, accept: str | None, seconds: int, *, bearer: bool) -> float:
    headers: list[str] = []
    if auth and bearer:
        headers += ["-H", f"Authorization: Bearer {auth[1]}"]
    elif auth:
        headers += ["-H", "Authorization: Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()]
    if accept:
        headers += ["-H", f"Accept: {accept}"]
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", *headers, url], check=True, capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if m is None or "Non-2xx or 3xx responses" in out.stdout:
        raise RuntimeError(f"wrk against {url} failed:\n{out.stdout}")
    return float(m[1])


def reader_token(client: HoistClient) -> tuple[str, str]:
    """A user who may only read (``viewer``), and its API token: what every read sends."""
    client.create_user(READER, grants=["role:viewer"])
    return READER, str(client.create_token(READER, description="bench reads", expires_in_days=1)["token"])


def promote_all(client: HoistClient, refs: list[str]) -> None:
    for ref in refs:
        client.attest(ref, type="unit-tests", result="pass")
        client.promote(ref, to="prod")


def bench_format(fmt: Format, hoist: Server | None, reader: tuple[str, str], runs: int, seconds: int) -> dict[str, object]:
    """The format's workload against its peer and (unless None) Hoist."""
    fmt.build()
    with fmt.peer_server() as peer_server:
        sides = [fmt.peer_side(peer_server)]
        if hoist is not None:
            sides.append(fmt.hoist_side(hoist.url, ("admin", hoist.token or ""), reader))
        published: dict[str, float] = {}
        for side in sides:
            published[side.name] = timed(lambda s=side: fmt.publish(s))
        if hoist is not None:
            with HoistClient(hoist.url, token=hoist.token) as client:
                published["hoist promotions"] = timed(lambda: promote_all(client, fmt.hoist_refs()))
        for side in sides:  # warm: first requests, page cache, the client's own start-up
            fmt.install(side, f"warm-{len(side.name)}")()
        installs: dict[str, list[float]] = {s.name: [] for s in sides}
        for i in range(runs):
            for n, side in enumerate(sides if i % 2 == 0 else list(reversed(sides))):
                installs[side.name].append(timed(fmt.install(side, f"{i}-{n}")))
        rates = {
            s.name: wrk_rate(s.read_url + fmt.index_path(), s.read_auth, fmt.accept, seconds, bearer=fmt.name == "npm")
            for s in sides
        }
    peer = sides[0].name
    result: dict[str, object] = {
        "format": fmt.name,
        "peer": peer,
        "packages": len(fmt.names),
        "publish_s": published,
        "install_s": {("peer" if k == peer else k): v for k, v in installs.items()},
        "install_median_s": {("peer" if k == peer else k): median(v) for k, v in installs.items()},
        "index_rps": {("peer" if k == peer else k): v for k, v in rates.items()},
    }
    if hoist is not None:
        result["install_ratio"] = median(installs["hoist"]) / median(installs[peer])
        result["index_ratio"] = rates["hoist"] / rates[peer]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wrk-seconds", type=int, default=5)
    parser.add_argument("--formats", default="npm,pypi,maven", help="comma-separated: npm, pypi, maven")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--peers-only", action="store_true", help="measure the peers alone (no Hoist)")
    args = parser.parse_args()
    chosen = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = set(chosen) - set(FORMATS)
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    results: list[dict[str, object]] = []
    failures: dict[str, str] = {}
    with workdir() as root, ExitStack() as stack:
        hoist, reader = None, ("-", "-")
        if not args.peers_only:
            hoist = stack.enter_context(hoist_server(root / "hoist", defaults=True))
            with HoistClient(hoist.url, token=hoist.token) as client:
                reader = reader_token(client)
        for name in chosen:
            folder = root / name
            folder.mkdir()
            try:
                results.append(
                    bench_format(FORMATS[name](folder, args.packages), hoist, reader, args.runs, args.wrk_seconds)
                )
            except (RuntimeError, httpx.HTTPError, subprocess.CalledProcessError) as exc:
                failures[name] = str(exc)[-3000:]  # one format not working must not hide the others
    if args.json:
        print(json.dumps({"results": results, "failures": failures}, indent=2))
        return
    print_table(results, args.runs)
    for name, why in failures.items():
        print(f"\n{name}: not measured:\n{why}", file=sys.stderr)


def print_table(results: list[dict[str, object]], runs: int) -> None:
    rows = []
    for r in results:
        install, rates = r["install_median_s"], r["index_rps"]
        assert isinstance(install, dict)
        assert isinstance(rates, dict)
        hoist = "hoist" in install
        for measure, key, value, ratio, target in (
            ("install (cold), s", "install_ratio", install, "{:.2f}", "≤ 1.00×"),
            ("index, req/s", "index_ratio", rates, "{:,.0f}", "≥ 2.00×"),
        ):
            rows.append(
                [
                    f"{r['format']} ({r['packages']} packages)" if measure.startswith("install") else "",
                    measure,
                    f"{r['peer']}: {ratio.format(value['peer'])}",
                    ratio.format(value["hoist"]) if hoist else "-",
                    f"{r[key]:.2f}×" if hoist else "-",
                    target,
                ]
            )
    print(
        table(
            f"Package protocols: peers vs Hoist (hoist serve defaults, a viewer token on every read), median of {runs}",
            ["format", "measure", "peer", "hoist", "hoist/peer", "target"],
            rows,
        )
    )


if __name__ == "__main__":
    os.environ.setdefault("NO_UPDATE_NOTIFIER", "1")  # npm: no registry lookups of its own
    main()
