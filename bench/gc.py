"""Garbage-collection benchmark: the same workload against Hoist and Debian's docker-registry (Go
distribution 2.8) in one run, with ratios.

    python -m bench.gc [--images 200] [--layers 5] [--layer-kib 64] [--runs 3] [--garbage latest|version] [--smoke]

Each run starts both servers fresh and pushes ``--images`` freshly made images of ``--layers``
distinct random layers (tar archives, so Hoist generates an SBOM for each version) to each with
skopeo, one repository per image (``dev/gc/img<i>``). Half of them stay live (tag ``1.0.0``, a
version in Hoist, with its generated SBOM referrer); the other half become garbage:

- docker-registry (``storage.delete.enabled``): the manifest is deleted by digest through /v2;
- Hoist, ``--garbage latest`` (the default): pushed with the movable tag ``latest`` only (no
  version: no artifact, no SBOM), then the manifest is deleted by digest through /v2 and every
  blob link the push left in the repository (``DELETE /v2/<name>/blobs/<digest>``), which would
  otherwise keep the blobs live;
- Hoist, ``--garbage version``: pushed as version ``1.0.0`` like the live half, so Hoist generates
  an SBOM referrer for it too; its referrers are deleted by digest, then the manifest and the blob
  links as above. The SBOM documents become garbage as well.

Before timing, a dry run on each side must report exactly the expected blobs collectable, and
every Hoist blob is aged by two hours (Hoist's grace period is one hour from a blob's last touch,
``blob_states.touched_at`` in its database: this measures the sweep, not the wait). Timed: Hoist's
``POST /api/v1/gc`` end to end over HTTP (the server warm), and ``docker-registry garbage-collect
config.yml`` with its server stopped (its collector is an offline mark and sweep over its storage
folder). Blobs and bytes reclaimed are
counted from the blob folders before and after, broken down by kind, and checked against what each
collector reports.

Ratio = reference time / Hoist time: above 1.00x Hoist is faster. Servers take turns going first.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import Server, hoist_server, median, settled, table, timed, workdir
from bench.oci import LAYER, OCI_MANIFEST, creds, reference_server, skopeo

KiB = 1024
AGE = 2 * 3600  # seconds: past Hoist's grace period of an hour
ACCEPT = f"{OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json"
ELIGIBLE = re.compile(r"(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion")
KINDS = ("layers", "configs", "manifests", "SBOM documents", "other")


@dataclass
class Image:
    """One pushed image: its repository and tag, whether it becomes garbage, and its blobs."""

    index: int
    layout: Path
    garbage: bool
    tag: str
    layers: list[str]
    config: str
    manifest: str

    @property
    def repository(self) -> str:
        return f"dev/gc/img{self.index}"


@dataclass
class Outcome:
    seconds: float
    reclaimed: dict[str, int]  # digest -> size: what left the blob folder
    reported_blobs: int
    reported_bytes: int
    kinds: Counter[str] = field(default_factory=Counter)
    kind_bytes: Counter[str] = field(default_factory=Counter)
    sboms_live: int = 0
    sboms_deleted: int = 0


def image_layout(root: Path, layers: int, layer_size: int, tag: str = "bench") -> Path:
    """An OCI image layout of ``layers`` distinct layers, each a gzip (level 0: stored, as in
    ``bench.oci``) tar archive of one file of random bytes, and a config with their diff_ids: an
    image Hoist can generate an SBOM for, as it does on every version push."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    descriptors, diff_ids = [], []
    for i in range(layers):
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w", format=tarfile.PAX_FORMAT) as tar:
            member = tarfile.TarInfo(f"opt/bench/layer-{i}.bin")
            member.size, member.mtime = layer_size, 0
            tar.addfile(member, io.BytesIO(os.urandom(layer_size)))
        raw = archive.getvalue()
        diff_ids.append(f"sha256:{hashlib.sha256(raw).hexdigest()}")
        descriptors.append({"mediaType": LAYER, **put(gzip.compress(raw, compresslevel=0, mtime=0))})
    config = put(
        json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    )
    manifest = put(
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                "layers": descriptors,
            }
        ).encode()
    )
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    ref = {"org.opencontainers.image.ref.name": tag}
    index = {"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, **manifest, "annotations": ref}]}
    (root / "index.json").write_text(json.dumps(index))
    return root


def make_images(root: Path, count: int, layers: int, layer_size: int, *, versioned_garbage: bool) -> list[Image]:
    images = []
    for i in range(count):
        layout = image_layout(root / f"img{i}", layers, layer_size)
        manifest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
        body = json.loads((layout / "blobs" / "sha256" / manifest.removeprefix("sha256:")).read_bytes())
        garbage = i % 2 == 1
        images.append(
            Image(
                index=i,
                layout=layout,
                garbage=garbage,
                tag="latest" if garbage and not versioned_garbage else "1.0.0",
                layers=[layer["digest"] for layer in body["layers"]],
                config=body["config"]["digest"],
                manifest=manifest,
            )
        )
    return images


def push_all(server: Server, images: list[Image], jobs: int) -> None:
    host = server.url.removeprefix("http://")

    def push(image: Image) -> None:
        skopeo(
            "copy",
            "--dest-tls-verify=false",
            *creds(server, "dest"),
            f"oci:{image.layout}:bench",
            f"docker://{host}/{image.repository}:{image.tag}",
        )

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(push, images))


def registry_client(server: Server) -> httpx.Client:
    auth = ("admin", server.token) if server.token else None
    return httpx.Client(base_url=server.url, auth=auth, timeout=600, headers={"Accept": ACCEPT})


def referrers(client: httpx.Client, image: Image) -> list[str]:
    answer = client.get(f"/v2/{image.repository}/referrers/{image.manifest}")
    answer.raise_for_status()
    return [m["digest"] for m in answer.json()["manifests"]]


@dataclass
class Deleted:
    sbom_documents: set[str] = field(default_factory=set)
    sboms_live: int = 0
    sboms_deleted: int = 0


def delete_garbage(server: Server, images: list[Image], *, hoist: bool) -> Deleted:
    """Delete each garbage image's manifest by the digest the server reports for its tag. For Hoist,
    first its referrers (the generated SBOM of a version), and after it each blob link the push left
    in the repository. Returns the SBOM documents so made garbage, and the SBOM referrers counted."""
    deleted = Deleted()
    with registry_client(server) as client:
        for image in images:
            name = image.repository
            found = referrers(client, image) if hoist else []
            if not image.garbage:
                deleted.sboms_live += len(found)
                continue
            head = client.head(f"/v2/{name}/manifests/{image.tag}")
            head.raise_for_status()
            digest = head.headers["Docker-Content-Digest"]
            if digest != image.manifest:
                raise RuntimeError(f"{server.url}/{name}: manifest stored as {digest}, pushed {image.manifest}")
            for referrer in found:
                answer = client.get(f"/v2/{name}/manifests/{referrer}")
                answer.raise_for_status()
                deleted.sbom_documents |= {layer["digest"] for layer in answer.json()["layers"]}
                client.delete(f"/v2/{name}/manifests/{referrer}").raise_for_status()
                deleted.sboms_deleted += 1
            client.delete(f"/v2/{name}/manifests/{digest}").raise_for_status()
            if hoist:
                for blob in [*image.layers, image.config]:
                    client.delete(f"/v2/{name}/blobs/{blob}").raise_for_status()
    return deleted


def scan(folder: Path, *, nested_data: bool) -> dict[str, int]:
    """digest -> size of every blob file: docker-registry keeps ``sha256/ab/<hex>/data``, Hoist
    ``sha256/ab/<hex>``."""
    found = {}
    for algorithm in folder.iterdir() if folder.is_dir() else []:
        for shard in algorithm.iterdir():
            for entry in shard.iterdir():
                if entry.name.startswith("."):  # Hoist: a blob being collected
                    continue
                path = entry / "data" if nested_data else entry
                if path.is_file():
                    found[f"{algorithm.name}:{entry.name}"] = path.stat().st_size
    return found


def classify(outcome: Outcome, images: list[Image], sbom_documents: set[str]) -> None:
    kind_of = dict.fromkeys(sbom_documents, "SBOM documents")
    for image in images:
        kind_of.update(dict.fromkeys(image.layers, "layers"))
        kind_of[image.config] = "configs"
        kind_of[image.manifest] = "manifests"
    for digest, size in outcome.reclaimed.items():
        kind = kind_of.get(digest, "other")
        outcome.kinds[kind] += 1
        outcome.kind_bytes[kind] += size


def expected_garbage(images: list[Image], *, manifests: bool, sbom_documents: set[str]) -> set[str]:
    """Layers and configs of garbage images, their manifests where the registry stores manifests as
    blobs (docker-registry; Hoist keeps them in its database), and their SBOM documents (Hoist)."""
    doomed = {d for image in images if image.garbage for d in [*image.layers, image.config]}
    if manifests:
        doomed |= {image.manifest for image in images if image.garbage}
    return doomed | sbom_documents


def check_dry_run(who: str, listed: set[str], expected: set[str]) -> None:
    if listed != expected:
        raise RuntimeError(
            f"{who} dry run: {len(listed)} blobs collectable, expected {len(expected)} "
            f"({len(listed - expected)} unexpected, {len(expected - listed)} missing)"
        )


def run_reference(root: Path, images: list[Image], jobs: int) -> Outcome:
    data = root / "reference"
    with reference_server(data) as server:
        push_all(server, images, jobs)
        delete_garbage(server, images, hoist=False)
    # stopped: docker-registry's collector must not run beside a server taking pushes
    conf, blobs = data / "config.yml", data / "store" / "docker" / "registry" / "v2" / "blobs"
    dry = subprocess.run(
        ["docker-registry", "garbage-collect", "--dry-run", str(conf)], capture_output=True, text=True, check=True
    ).stdout
    eligible = {line.rsplit(" ", 1)[1] for line in dry.splitlines() if line.startswith("blob eligible for deletion:")}
    check_dry_run("docker-registry", eligible, expected_garbage(images, manifests=True, sbom_documents=set()))
    before = scan(blobs, nested_data=True)
    out: list[str] = []

    def collect() -> None:
        done = subprocess.run(["docker-registry", "garbage-collect", str(conf)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"docker-registry garbage-collect failed:\n{done.stdout}{done.stderr}")
        out.append(done.stdout)

    seconds = timed(collect)
    after = scan(blobs, nested_data=True)
    m = ELIGIBLE.search(out[0])
    if m is None:
        raise RuntimeError(f"unexpected docker-registry garbage-collect output:\n{out[0][-2000:]}")
    outcome = Outcome(
        seconds,
        reclaimed={d: s for d, s in before.items() if d not in after},
        reported_blobs=int(m[2]),
        reported_bytes=sum(before[d] for d in eligible),
    )
    classify(outcome, images, set())
    shutil.rmtree(data, ignore_errors=True)
    return outcome


def age_blobs(database: Path, seconds: int) -> None:
    """Every blob's last touch (``blob_states``, what the grace period runs from) ``seconds`` ago."""
    then = (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("UPDATE blob_states SET touched_at = ?", (then,))


def run_hoist(root: Path, images: list[Image], jobs: int) -> tuple[Outcome, dict[str, object]]:
    data = root / "hoist" / "data"
    data.mkdir(parents=True)
    blobs = data / "blobs"
    with hoist_server(data) as server:
        push_all(server, images, jobs)
        settled(server)  # the versions' SBOMs exist before their referrers are listed
        deleted = delete_garbage(server, images, hoist=True)
        age_blobs(data / "hoist.db", AGE)
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=3600) as client:

            def gc(*, dry_run: bool) -> dict[str, object]:
                answer = client.post("/api/v1/gc", json={"dry_run": dry_run})
                answer.raise_for_status()
                return dict(answer.json())

            dry = gc(dry_run=True)
            expected = expected_garbage(images, manifests=False, sbom_documents=deleted.sbom_documents)
            check_dry_run("Hoist", set(dry["blobs"]), expected)  # type: ignore[call-overload]
            before = scan(blobs, nested_data=False)
            reports: list[dict[str, object]] = []
            seconds = timed(lambda: reports.append(gc(dry_run=False)))
            after = scan(blobs, nested_data=False)
    report = reports[0]
    outcome = Outcome(
        seconds,
        reclaimed={d: s for d, s in before.items() if d not in after},
        reported_blobs=int(report["collected"]),  # type: ignore[call-overload]
        reported_bytes=int(report["bytes_freed"]),  # type: ignore[call-overload]
        sboms_live=deleted.sboms_live,
        sboms_deleted=deleted.sboms_deleted,
    )
    classify(outcome, images, deleted.sbom_documents)
    shutil.rmtree(root / "hoist", ignore_errors=True)
    return outcome, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=200, help="images pushed to each registry; half become garbage")
    parser.add_argument("--layers", type=int, default=5, help="distinct random layers per image")
    parser.add_argument("--layer-kib", type=int, default=64, help="size of the file in each layer")
    parser.add_argument("--runs", type=int, default=3, help="runs, each with fresh servers and fresh images")
    parser.add_argument(
        "--garbage", choices=["latest", "version"], default="latest", help="how the garbage half is pushed to Hoist"
    )
    parser.add_argument("--jobs", type=int, default=4, help="concurrent skopeo pushes while filling (not timed)")
    parser.add_argument("--smoke", action="store_true", help="a quick check: 6 images of 2 layers of 16 KiB, one run")
    args = parser.parse_args()
    if args.smoke:
        args.images, args.layers, args.layer_kib, args.runs = 6, 2, 16, 1

    results: dict[str, list[Outcome]] = {"reference": [], "hoist": []}
    report: dict[str, object] = {}
    with workdir() as root:
        for i in range(args.runs):
            run_root = root / f"run-{i}"
            images = make_images(
                run_root / "layouts",
                args.images,
                args.layers,
                args.layer_kib * KiB,
                versioned_garbage=args.garbage == "version",
            )
            for name in ["reference", "hoist"] if i % 2 == 0 else ["hoist", "reference"]:
                if name == "reference":
                    results[name].append(run_reference(run_root, images, args.jobs))
                else:
                    outcome, report = run_hoist(run_root, images, args.jobs)
                    results[name].append(outcome)
            shutil.rmtree(run_root, ignore_errors=True)
            ref, ours = results["reference"][-1], results["hoist"][-1]
            print(f"run {i + 1}: reference {ref.seconds:.3f} s, hoist {ours.seconds:.3f} s", flush=True)
    print_results(args, results, report)


def print_results(args: argparse.Namespace, results: dict[str, list[Outcome]], report: dict[str, object]) -> None:
    def med(name: str, value: Callable[[Outcome], float]) -> float:
        return median([value(o) for o in results[name]])

    def both(value: Callable[[Outcome], float], fmt: str = "{:,.0f}") -> list[str]:
        return [fmt.format(med("reference", value)), fmt.format(med("hoist", value))]

    ref_s, ours_s = med("reference", lambda o: o.seconds), med("hoist", lambda o: o.seconds)
    garbage = args.images // 2
    rows = [
        ["garbage collection", "wall time", f"{ref_s:.3f} s", f"{ours_s:.3f} s", f"{ref_s / ours_s:.2f}×"],
        ["blobs reclaimed", "count", *both(lambda o: len(o.reclaimed)), ""],
        ["bytes reclaimed", "KiB", *both(lambda o: sum(o.reclaimed.values()) / KiB, "{:,.1f}"), ""],
    ]
    for kind in KINDS:
        if any(o.kinds[kind] for outcomes in results.values() for o in outcomes):
            counts = both(lambda o, k=kind: o.kinds[k])
            sizes = both(lambda o, k=kind: o.kind_bytes[k] / KiB, "{:,.1f}")
            rows.append([f"  of which {kind}", "count / KiB", f"{counts[0]} / {sizes[0]}", f"{counts[1]} / {sizes[1]}", ""])
    counts = both(lambda o: o.reported_blobs)
    sizes = both(lambda o: o.reported_bytes / KiB, "{:,.1f}")
    rows.append(["reported by the collector", "blobs / KiB", f"{counts[0]} / {sizes[0]}", f"{counts[1]} / {sizes[1]}", ""])
    sboms = both(lambda o: o.sboms_live), both(lambda o: o.sboms_deleted)
    rows.append(["SBOM referrers", "kept / deleted", "none stored", f"{sboms[0][1]} / {sboms[1][1]}", ""])
    print(
        table(
            f"GC: docker-registry 2.8 garbage-collect (reference, offline) vs Hoist POST /api/v1/gc, "
            f"{args.images} images × {args.layers} layers of {args.layer_kib} KiB, {garbage} made garbage "
            f"(Hoist: --garbage {args.garbage}), median of {args.runs}",
            ["workload", "", "reference", "hoist", "ratio"],
            rows,
        )
    )
    for name, outcomes in results.items():
        for o in outcomes:
            assert o.reported_blobs == len(o.reclaimed), (
                f"{name}: reported {o.reported_blobs} blobs, {len(o.reclaimed)} left"
            )
            assert o.reported_bytes == sum(o.reclaimed.values()), f"{name}: reported bytes are not what left its folder"
    ref, ours = results["reference"][-1], results["hoist"][-1]
    image_kinds = ("layers", "configs")
    ref_images = sum(ref.kind_bytes[k] for k in image_kinds)
    our_images = sum(ours.kind_bytes[k] for k in image_kinds)
    assert ref_images == our_images, f"layer and config bytes reclaimed differ: {ref_images} vs {our_images}"
    print(
        f"Layers and configs reclaimed are the same bytes on both sides ({ref_images:,}). Besides, the reference "
        f"reclaims the {ref.kinds['manifests']} deleted manifests ({ref.kind_bytes['manifests']:,} bytes), which "
        "docker-registry stores as blobs and Hoist keeps in its metadata database; Hoist reclaims "
        f"{ours.kinds['SBOM documents']} SBOM documents ({ours.kind_bytes['SBOM documents']:,} bytes) of the "
        f"{ours.sboms_deleted} SBOM referrers deleted with the garbage images (docker-registry generates no SBOMs; "
        "Hoist generates one per version, none for an image pushed with a movable tag only)."
    )
    print(
        f"hoist (last run): live manifests {report['live_manifests']}, live blobs {report['live_blobs']}, "
        f"candidates {report['candidates']}, collected {report['collected']}, kept after all {report['kept_after_all']}"
    )


if __name__ == "__main__":
    main()
