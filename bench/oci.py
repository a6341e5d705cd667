"""OCI registry benchmark: the same client workload against Hoist and Debian's docker-registry (Go
distribution 2.8) on loopback, in one run, with ratios.

    python -m bench.oci [--runs 3] [--large-mib 1024] [--layers 20] [--layer-mib 50] [--workers 2] [--wrk-seconds 10]
    python -m bench.oci --defaults [--blob-mib 512] [...]


- push and pull (skopeo) of one image with a single large layer, and of one with many layers;
- manifest GETs per second and tags lists per second under wrk (32 connections, 2 threads);
- server memory (RSS of all its processes) while a 2 GiB blob streams in and out.

``--defaults`` is what users run: ``hoist serve`` with no tuning flag or variable (a worker per core,
its blob server on the next port), and credentials on every request for both servers: the
reference checks HTTP Basic against an htpasswd file (bcrypt), Hoist gets Basic with the
administrator's API token (what ``docker login -u admin -p TOKEN`` then sends). It adds a pull of
one ``--blob-mib`` blob with curl (``-L``: Hoist answers 307 to its blob server), and request
rates against a reference without credentials too, since bcrypt on every request dominates it.

Ratio = reference time / Hoist time for transfers, Hoist rate / reference rate for wrk: above 1.00x
Hoist is faster. Both servers run warm for the whole benchmark; every run pushes a freshly made
image with new random layers, so no server already holds them and skopeo's blob-info cache cannot
turn an upload into a cross-repository mount. Servers take turns going first.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    GiB,
    MemorySampler,
    MiB,
    Server,
    free_port,
    hoist_server,
    median,
    table,
    timed,
    wait_for,
    workdir,
)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SKOPEO = ["skopeo", "--insecure-policy"]

REGISTRY_CONF = """version: 0.1
log: {{level: error, accesslog: {{disabled: true}}}}
storage:
  filesystem: {{rootdirectory: {root}}}
  delete: {{enabled: true}}
http:
  addr: 127.0.0.1:{port}
"""


HTPASSWD_AUTH = """auth:
  htpasswd: {{realm: bench, path: {path}}}
"""


def bcrypt_hash(password: str) -> str:
    """What ``htpasswd -Bbn`` writes (cost 5, as Docker's registry documentation makes them): the
    reference checks it on every request."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # crypt: the libxcrypt bcrypt, no extra package
        import crypt
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**5))


@contextmanager
def reference_server(data: Path, *, password: str | None = None) -> Iterator[Server]:
    """docker-registry; with ``password``, user ``bench`` must send it (HTTP Basic, htpasswd)."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed: apt-get install docker-registry")
    port = free_port()
    data.mkdir(parents=True, exist_ok=True)
    conf = data / "config.yml"
    conf.write_text(REGISTRY_CONF.format(root=data / "store", port=port))
    if password is not None:
        htpasswd = data / "htpasswd"
        htpasswd.write_text(f"bench:{bcrypt_hash(password)}\n")
        with conf.open("a") as f:
            f.write(HTPASSWD_AUTH.format(path=htpasswd))
    log = data / "registry.log"
    with log.open("w") as out:
        process = subprocess.Popen([binary, "serve", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/v2/", process, log, expect=401 if password is not None else 200)
        yield Server(url, process, password, "bench")
    finally:
        process.terminate()
        process.wait(timeout=30)


def oci_layout(root: Path, layer_sizes: list[int], tag: str = "bench") -> Path:
    """An OCI image layout with random gzip layers, written directly (no tar inside: registries and
    skopeo copy layers as opaque blobs)."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes | None = None, size: int = 0) -> dict[str, object]:
        if data is not None:
            digest = hashlib.sha256(data).hexdigest()
            (blobs / digest).write_bytes(data)
            return {"digest": f"sha256:{digest}", "size": len(data)}
        tmp = blobs / "tmp"
        h = hashlib.sha256()
        # A valid gzip stream of random bytes (stored blocks, level 0): skopeo sees a compressed layer and
        # copies it as is, instead of gzipping it on the way (which would measure skopeo, not the registry).
        with tmp.open("wb") as raw, gzip.GzipFile(fileobj=_Hashing(raw, h), mode="wb", compresslevel=0, mtime=0) as f:
            remaining = size
            while remaining:
                chunk = os.urandom(min(remaining, 16 * MiB))
                f.write(chunk)
                remaining -= len(chunk)
        size = tmp.stat().st_size
        tmp.rename(blobs / h.hexdigest())
        return {"digest": f"sha256:{h.hexdigest()}", "size": size}

    config = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode())
    layers = [{"mediaType": LAYER, **put(size=s)} for s in layer_sizes]
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": layers,
        }
    ).encode()
    m = put(manifest)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [{"mediaType": OCI_MANIFEST, **m, "annotations": {"org.opencontainers.image.ref.name": tag}}],
            }
        )
    )
    return root


class _Hashing:
    """A file wrapper that hashes what is written through it."""

    def __init__(self, f: Any, h: Any) -> None:
        self.f, self.h = f, h

    def write(self, data: bytes) -> int:
        self.h.update(data)
        return int(self.f.write(data))

    def flush(self) -> None:
        self.f.flush()


def creds(server: Server, side: str) -> list[str]:
    """skopeo copy's credentials option for ``server`` on ``side`` ("src" or "dest"): Hoist's
    administrator and its API token, the reference's htpasswd user; nothing without authentication."""
    return [f"--{side}-creds={server.user}:{server.token}"] if server.token else []


def basic(server: Server) -> list[str]:
    """The header option (curl, wrk) that sends ``server`` HTTP Basic credentials on every request."""
    if not server.token:
        return []
    return ["-H", "Authorization: Basic " + base64.b64encode(f"{server.user}:{server.token}".encode()).decode()]


def skopeo(*args: str) -> None:
    done = subprocess.run([*SKOPEO, *args], capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"skopeo {' '.join(args)} failed:\n{done.stderr}")


@contextmanager
def servers_for(root: Path, workers: int | None) -> Iterator[dict[str, Server]]:
    """The reference and Hoist; ``workers`` None means both as ``--defaults`` runs them."""
    with ExitStack() as stack:
        if workers is None:
            reference = reference_server(root / "reference", password=secrets.token_urlsafe(16))
            hoist = hoist_server(root / "hoist", defaults=True)
        else:
            reference, hoist = reference_server(root / "reference"), hoist_server(root / "hoist", HOIST_WORKERS=str(workers))
        servers = {"reference": stack.enter_context(reference), "hoist": stack.enter_context(hoist)}
        warm = oci_layout(root / "warm", [64 * 1024])
        for server in servers.values():
            skopeo(
                "copy",
                "--dest-tls-verify=false",
                *creds(server, "dest"),
                f"oci:{warm}:bench",
                f"docker://{server.url.removeprefix('http://')}/dev/warm/up:1.0.0",
            )
        yield servers
    shutil.rmtree(root, ignore_errors=True)


def transfer(
    servers: dict[str, Server], root: Path, layer_sizes: list[int], runs: int, workload: str
) -> dict[str, dict[str, list[float]]]:
    """Push then pull a freshly made image to every (warm) server, ``runs`` times. New random layers
    each run, so no server ever already holds them and skopeo's blob-info cache has nothing to mount."""
    times: dict[str, dict[str, list[float]]] = {name: {"push": [], "pull": []} for name in servers}
    for i in range(runs):
        layout = oci_layout(root / f"layout-{i}", layer_sizes)
        order = list(servers) if i % 2 == 0 else list(reversed(servers))  # neither always goes first
        for name in order:
            host = servers[name].url.removeprefix("http://")
            target = f"docker://{host}/dev/bench/{workload}-{i}:1.0.0"  # versions never take other bytes
            out = root / f"pulled-{name}-{i}"
            dest, src = creds(servers[name], "dest"), creds(servers[name], "src")
            times[name]["push"].append(
                timed(
                    lambda t=target, lay=layout, c=dest: skopeo("copy", "--dest-tls-verify=false", *c, f"oci:{lay}:bench", t)
                )
            )
            times[name]["pull"].append(
                timed(lambda t=target, o=out, c=src: skopeo("copy", "--src-tls-verify=false", *c, t, f"oci:{o}:bench"))
            )
            shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(layout, ignore_errors=True)
    return times


def memory(servers: dict[str, Server], root: Path) -> dict[str, tuple[int, int]]:
    """Peak RSS of each server while a 2 GiB blob goes in and comes back out."""
    layout = oci_layout(root / "huge", [2 * GiB])
    peaks = {}
    for name, server in servers.items():
        host = server.url.removeprefix("http://")
        target = f"docker://{host}/dev/bench/huge:1.0.0"
        with MemorySampler(server) as sampler:
            skopeo("copy", "--dest-tls-verify=false", *creds(server, "dest"), f"oci:{layout}:bench", target)
            skopeo("copy", "--src-tls-verify=false", *creds(server, "src"), target, f"oci:{root / 'huge-out'}:bench")
        shutil.rmtree(root / "huge-out", ignore_errors=True)
        peaks[name] = (sampler.baseline, sampler.peak)
    shutil.rmtree(layout, ignore_errors=True)
    return peaks


def registry_token(server: Server, repository: str) -> list[str]:
    """What an OCI client sends after the token flow: a bearer token from /v2/token (checked
    without a database read), not the API token; nothing for the reference."""
    if not server.token:
        return []
    answer = httpx.get(
        f"{server.url}/v2/token",
        params={"service": "hoist", "scope": f"repository:{repository}:pull"},
        auth=("admin", server.token),
        timeout=30,
    )
    answer.raise_for_status()
    return ["-H", f"Authorization: Bearer {answer.json()['token']}"]


def wrk_rate(server: Server, path: str, accept: str | None = None, seconds: int = 10, *, basic_auth: bool = False) -> float:
    repository = path.removeprefix("/v2/").split("/manifests/")[0].split("/tags/")[0]
    auth = basic(server) if basic_auth else registry_token(server, repository)
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", *auth, server.url + path]
    if accept:
        command[1:1] = ["-H", f"Accept: {accept}"]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m is None or non2xx:
        raise RuntimeError(f"wrk against {path} failed:\n{out}")
    return float(m[1])


def blob_pull(servers: dict[str, Server], root: Path, mib: int, runs: int) -> dict[str, list[float]]:
    """curl GETs of one ``mib`` MiB blob, credentials on the request, following Hoist's 307."""
    layout = oci_layout(root / "blob", [mib * MiB])
    manifest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"].split(":")[1]
    layer = json.loads((layout / "blobs" / "sha256" / manifest).read_bytes())["layers"][0]["digest"]
    times: dict[str, list[float]] = {name: [] for name in servers}
    for server in servers.values():
        host = server.url.removeprefix("http://")
        skopeo(
            "copy",
            "--dest-tls-verify=false",
            *creds(server, "dest"),
            f"oci:{layout}:bench",
            f"docker://{host}/dev/bench/blob:1.0.0",
        )
    for i in range(runs):
        for name in list(servers) if i % 2 == 0 else list(reversed(servers)):
            url = f"{servers[name].url}/v2/dev/bench/blob/blobs/{layer}"
            command = ["curl", "-sfL", *basic(servers[name]), "-o", "/dev/null", url]
            times[name].append(timed(lambda c=command: subprocess.run(c, check=True)))
    shutil.rmtree(layout, ignore_errors=True)
    return times


def request_rates(
    servers: dict[str, Server], root: Path, tags: int, seconds: int = 10, *, basic_auth: bool = False
) -> dict[str, dict[str, float]]:
    small = oci_layout(root / "small", [4096])
    rates = {}
    for name, server in servers.items():
        host = server.url.removeprefix("http://")
        skopeo(
            "copy",
            "--dest-tls-verify=false",
            *creds(server, "dest"),
            f"oci:{small}:bench",
            f"docker://{host}/dev/bench/small:1.0.0",
        )
        for i in range(1, tags):
            skopeo(
                "copy",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                *creds(server, "src"),
                *creds(server, "dest"),
                f"docker://{host}/dev/bench/small:1.0.0",
                f"docker://{host}/dev/bench/small:1.0.{i}",
            )
        rates[name] = {
            "manifest": wrk_rate(
                server, "/v2/dev/bench/small/manifests/1.0.0", OCI_MANIFEST, seconds, basic_auth=basic_auth
            ),
            "tags": wrk_rate(server, "/v2/dev/bench/small/tags/list", seconds=seconds, basic_auth=basic_auth),
        }
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--layer-mib", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="Hoist worker processes (hoist serve's default)")
    parser.add_argument("--tags", type=int, default=50, help="tags in the repository the tags-list test reads")
    parser.add_argument("--wrk-seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--defaults", action="store_true", help="hoist serve untuned, credentials on every request")
    parser.add_argument("--blob-mib", type=int, default=512, help="the blob curl pulls (--defaults)")
    args = parser.parse_args()
    workers = None if args.defaults else args.workers

    with workdir() as root:
        # Fresh servers for each part (what a part stores must fit in tmpfs next to the rest),
        # warmed up by one small push before anything is timed.
        blobs = None
        if args.defaults:
            with servers_for(root / "blob", workers) as servers:
                blobs = blob_pull(servers, root, args.blob_mib, args.runs)
        with servers_for(root / "large", workers) as servers:
            large = transfer(servers, root, [args.large_mib * MiB], args.runs, "large")
        with servers_for(root / "many", workers) as servers:
            many = transfer(servers, root, [args.layer_mib * MiB] * args.layers, args.runs, "many")
        results = {"large": large, "many": many}
        with servers_for(root / "rates", workers) as servers, ExitStack() as open_reference:
            if args.defaults:  # bcrypt on every request dominates the reference: show it without, too
                servers["reference without credentials"] = open_reference.enter_context(reference_server(root / "open"))
            rates = request_rates(servers, root, args.tags, args.wrk_seconds, basic_auth=args.defaults)
        peaks = None
        if not args.skip_memory:
            with servers_for(root / "memory", workers) as servers:
                peaks = memory(servers, root)
    rows = []
    if blobs is not None:
        ref, ours = median(blobs["reference"]), median(blobs["hoist"])
        rows.append([f"1 blob of {args.blob_mib} MiB (curl)", "pull", f"{ref:.2f} s", f"{ours:.2f} s", f"{ref / ours:.2f}×"])
    for workload, label in (
        ("large", f"1 layer of {args.large_mib} MiB"),
        ("many", f"{args.layers} layers of {args.layer_mib} MiB"),
    ):
        for direction in ("push", "pull"):
            ref = median(results[workload]["reference"][direction])
            ours = median(results[workload]["hoist"][direction])
            rows.append([label, direction, f"{ref:.2f} s", f"{ours:.2f} s", f"{ref / ours:.2f}×"])
    for key, label in (("manifest", "manifest GET"), ("tags", f"tags list ({args.tags} tags)")):
        ref, ours = rates["reference"][key], rates["hoist"][key]
        rows.append([label, "req/s", f"{ref:,.0f}", f"{ours:,.0f}", f"{ours / ref:.2f}×"])
        if "reference without credentials" in rates:
            ref = rates["reference without credentials"][key]
            rows.append([f"{label}, open reference", "req/s", f"{ref:,.0f}", f"{ours:,.0f}", f"{ours / ref:.2f}×"])
    setup = "hoist serve defaults, Basic credentials on every request" if args.defaults else f"{args.workers} workers"
    print(
        table(
            f"OCI: docker-registry 2.8 (reference) vs Hoist ({setup}), skopeo, curl and wrk on loopback, "
            f"median of {args.runs}",
            ["workload", "", "reference", "hoist", "ratio"],
            rows,
        )
    )
    if peaks:
        for name, (base, peak) in peaks.items():
            print(
                f"{name}: RSS while a 2 GiB blob is pushed then pulled: baseline {base / MiB:.0f} MiB, "
                f"peak {peak / MiB:.0f} MiB, growth {(peak - base) / MiB:.0f} MiB"
            )


if __name__ == "__main__":
    main()
