"""Upload and download throughput of one large generic artifact, Hoist against a plain static file
server (nginx: GET with sendfile, PUT through its DAV module) on loopback, in one run; and the
server's memory while the upload streams in.

    python -m bench.transfer [--size-mib 1024] [--runs 3]

Hoist is measured as users meet it: `hoist push` (client hashes while it streams, server hashes,
writes, fsyncs and verifies) and `hoist pull` (client verifies every byte before the file lands);
raw `curl` against Hoist's blob endpoint shows the server alone.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bench.common import (
    HOIST,
    MemorySampler,
    MiB,
    bearer,
    hoist_env,
    hoist_server,
    mb_per_s,
    median,
    nginx_server,
    random_file,
    run,
    table,
    timed,
    workdir,
)


def measure(size: int, runs: int, fsync: bool) -> dict[str, object]:
    with workdir() as root:
        source = random_file(root / "artifact.bin", size)
        env = {**os.environ, "HOIST_NO_PROGRESS": "1"}
        results: dict[str, list[float]] = {
            k: [] for k in ("nginx_put", "hoist_push", "nginx_get", "hoist_pull", "hoist_curl_get")
        }
        memory: list[tuple[int, int]] = []
        with nginx_server(root / "nginx") as nginx, hoist_server(root / "data", HOIST_FSYNC=str(fsync).lower()) as hoist:
            env.update(hoist_env(hoist))
            for i in range(runs):
                results["nginx_put"].append(
                    timed(lambda i=i: run(["curl", "-sf", "-T", str(source), f"{nginx.url}/artifact-{i}.bin"]))
                )
                with MemorySampler(hoist) as sampler:
                    results["hoist_push"].append(
                        timed(
                            lambda i=i: run(
                                [*HOIST, "push", "big", str(source), "--version", f"1.0.{i}", "--no-progress"], env=env
                            )
                        )
                    )
                memory.append((sampler.baseline, sampler.peak))
                out = root / f"pulled-{i}"
                results["nginx_get"].append(
                    timed(
                        lambda i=i: run(["curl", "-sf", "-o", str(root / f"nginx-{i}.bin"), f"{nginx.url}/artifact-{i}.bin"])
                    )
                )
                results["hoist_pull"].append(
                    timed(
                        lambda i=i, out=out: run([*HOIST, "pull", f"big@1.0.{i}", "-o", str(out), "--no-progress"], env=env)
                    )
                )
                digest = json.loads(run([*HOIST, "ls", "big", "--json"], env=env).stdout)[0]["digest"]
                blob = json.loads(
                    run([*HOIST, "pull", f"big@{digest}", "-o", str(root / "x"), "--json", "--no-progress"], env=env).stdout
                )["files"][0]["digest"]
                results["hoist_curl_get"].append(
                    timed(
                        lambda i=i, blob=blob: run(
                            [
                                "curl",
                                "-sfL",  # the blob endpoint redirects to the sendfile blob server
                                *bearer(hoist),
                                "-o",
                                str(root / f"raw-{i}.bin"),
                                f"{hoist.url}/api/v1/blobs/{blob}",
                            ]
                        )
                    )
                )
                for leftover in (
                    out / "artifact.bin",
                    root / f"nginx-{i}.bin",
                    root / f"raw-{i}.bin",
                    root / "x" / "artifact.bin",
                    root / "nginx" / "files" / f"artifact-{i}.bin",
                ):
                    leftover.unlink(missing_ok=True)
        medians = {k: median(v) for k, v in results.items()}
        return {
            "size": size,
            "fsync": fsync,
            "runs": runs,
            "seconds": results,
            "median": medians,
            "memory": memory,
            "root": str(root.parent),
        }


def report(result: dict[str, object]) -> str:
    size = int(result["size"])  # type: ignore[call-overload]
    m: dict[str, float] = result["median"]  # type: ignore[assignment]
    rows = [
        ["upload", "curl -T → nginx (PUT)", f"{m['nginx_put']:.2f} s", mb_per_s(size, m["nginx_put"]), "1.00×"],
        [
            "upload",
            "hoist push",
            f"{m['hoist_push']:.2f} s",
            mb_per_s(size, m["hoist_push"]),
            f"{m['nginx_put'] / m['hoist_push']:.2f}×",
        ],
        ["download", "curl ← nginx (sendfile)", f"{m['nginx_get']:.2f} s", mb_per_s(size, m["nginx_get"]), "1.00×"],
        [
            "download",
            "hoist pull (verified)",
            f"{m['hoist_pull']:.2f} s",
            mb_per_s(size, m["hoist_pull"]),
            f"{m['nginx_get'] / m['hoist_pull']:.2f}×",
        ],
        [
            "download",
            "curl ← hoist blob endpoint",
            f"{m['hoist_curl_get']:.2f} s",
            mb_per_s(size, m["hoist_curl_get"]),
            f"{m['nginx_get'] / m['hoist_curl_get']:.2f}×",
        ],
    ]
    memory: list[tuple[int, int]] = result["memory"]  # type: ignore[assignment]
    growth = max(peak - base for base, peak in memory)
    title = (
        f"{size // MiB} MiB generic artifact in {result['root']}, median of {result['runs']} runs, "
        f"fsync={result['fsync']} "
        "(ratio = reference time / Hoist time; above 1.00× is faster than the reference)"
    )
    mem = (
        f"server RSS during push: baseline {memory[0][0] / MiB:.0f} MiB, peak {max(p for _, p in memory) / MiB:.0f}"
        f" MiB, largest growth {growth / MiB:.0f} MiB"
    )
    return table(title, ["direction", "client → server", "median", "throughput", "ratio"], rows) + "\n" + mem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-fsync", action="store_true", help="also measure with HOIST_FSYNC=false")
    parser.add_argument("--json", type=Path, help="write raw results here")
    args = parser.parse_args()
    results = [measure(args.size_mib * MiB, args.runs, fsync=True)]
    if args.no_fsync:
        results.append(measure(args.size_mib * MiB, args.runs, fsync=False))
    for r in results:
        print(report(r) + "\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
