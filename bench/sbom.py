"""SBOM generation for a ~500 MB container image: wall time and peak memory of
``hoist.sbom.generate.generate_for_image``, each run in a fresh process. For scale, the reference is
a plain streaming read of the same layers: ``tar --no-seek -tf`` / ``tar --no-seek -tzf`` (every
byte read, gzip layers decompressed, nothing parsed).

    python -m bench.sbom [--runs 3] [--data-mib 480]

The image: a base layer with this machine's real dpkg database and os-release (gzip); a language
layer with ~200 Python dist-infos and ~500 npm packages in node_modules (gzip); and ``--data-mib``
of incompressible files spread over three layers (one gzip, two plain tar).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from bench.common import MiB, median, table, timed, workdir

GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
TAR = "application/vnd.oci.image.layer.v1.tar"
DIGEST = "sha256:" + "5b" * 32


def _add(t: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1_700_000_000
    t.addfile(info, io.BytesIO(data))


def base_layer(path: Path) -> None:
    os_release = Path("/etc/os-release").read_bytes() if Path("/etc/os-release").exists() else b"ID=debian\nVERSION_ID=12\n"
    status = Path("/var/lib/dpkg/status")
    with tarfile.open(path, "w:gz", compresslevel=6) as t:
        _add(t, "var/lib/dpkg/status", status.read_bytes() if status.exists() else b"")
        _add(t, "usr/lib/os-release", os_release)
        for i in range(2000):  # the rest of a base system: many small files
            _add(t, f"usr/share/doc/pkg{i}/copyright", os.urandom(256).hex().encode())


def language_layer(path: Path, dist_infos: int, npm_packages: int) -> None:
    site = "usr/local/lib/python3.12/site-packages"
    with tarfile.open(path, "w:gz", compresslevel=6) as t:
        for i in range(dist_infos):
            name = f"package_{i}"
            metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.{i}.0\nSummary: bench\n\n" + "description\n" * 50
            _add(t, f"{site}/{name}-1.{i}.0.dist-info/METADATA", metadata.encode())
            _add(t, f"{site}/{name}-1.{i}.0.dist-info/RECORD", b"x.py,sha256=abc,10\n" * 20)
            _add(t, f"{site}/{name}/__init__.py", os.urandom(2048).hex().encode())
        for i in range(npm_packages):
            name = f"@scope{i % 10}/pkg-{i}" if i % 5 == 0 else f"pkg-{i}"
            manifest = json.dumps({"name": name, "version": f"2.{i}.0", "license": "MIT", "main": "index.js"}).encode()
            _add(t, f"app/node_modules/{name}/package.json", manifest)
            _add(t, f"app/node_modules/{name}/index.js", os.urandom(1024).hex().encode())
            _add(t, f"app/node_modules/{name}/lib/package.json", b'{"type": "module"}')


def data_layer(path: Path, size: int, *, gz: bool) -> None:
    with tarfile.open(path, "w:gz", compresslevel=1) if gz else tarfile.open(path, "w") as t:
        written, index = 0, 0
        while written < size:
            chunk = min(8 * MiB, size - written)
            _add(t, f"opt/data/blob-{index:04d}.bin", os.urandom(chunk))
            written += chunk
            index += 1


def build_image(root: Path, data_mib: int) -> list[tuple[str, Path]]:
    layers = [(GZIP, root / "base.tar.gz"), (GZIP, root / "lang.tar.gz")]
    base_layer(layers[0][1])
    language_layer(layers[1][1], dist_infos=200, npm_packages=500)
    data = data_mib * MiB
    for index, (gz, share) in enumerate(((True, 0.2), (False, 0.4), (False, 0.4))):
        path = root / f"data{index}.tar{'.gz' if gz else ''}"
        data_layer(path, int(data * share), gz=gz)
        layers.append((GZIP if gz else TAR, path))
    return layers


def child(layer_list: Path) -> None:
    """One measured run, in a process of its own: prints seconds, components and memory as JSON."""
    from datetime import UTC, datetime

    from hoist.sbom.generate import generate_for_image

    layers = [(media_type, Path(path)) for media_type, path in json.loads(layer_list.read_text())]
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    doc = generate_for_image(
        [(media_type, lambda path=path: path.open("rb")) for media_type, path in layers],
        name="bench/app",
        version="1.0",
        digest=DIGEST,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "components": len(doc.components),
                "baseline": baseline,
                "peak": peak,
                "bytes": len(doc.raw),
            }
        )
    )


def measure_hoist(layer_list: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.sbom", "--child", str(layer_list)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"generate_for_image failed:\n{done.stdout}{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def streaming_read(layers: list[tuple[str, Path]]) -> None:
    for media_type, path in layers:
        flags = "-tzf" if media_type.endswith("gzip") else "-tf"
        subprocess.run(["tar", "--no-seek", flags, str(path)], stdout=subprocess.DEVNULL, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-mib", type=int, default=480, help="incompressible data in the image's data layers")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with workdir() as root:
        layers = build_image(root, args.data_mib)
        image_bytes = sum(path.stat().st_size for _, path in layers)
        layer_list = root / "layers.json"
        layer_list.write_text(json.dumps([(m, str(p)) for m, p in layers]))
        measure_hoist(layer_list)  # warm the page cache and compiled bytecode
        runs = [measure_hoist(layer_list) for _ in range(args.runs)]
        reference = [timed(lambda: streaming_read(layers)) for _ in range(args.runs)]
    hoist_s = median([r["seconds"] for r in runs])
    reference_s = median(reference)
    peak = median([r["peak"] for r in runs])
    growth = median([r["peak"] - r["baseline"] for r in runs])
    rows = [
        [
            "Hoist generate_for_image",
            f"{hoist_s:.2f} s",
            f"{image_bytes / hoist_s / 1e6:,.0f} MB/s",
            f"{peak / MiB:.0f} MiB",
            f"{growth / MiB:.0f} MiB",
        ],
        [
            "reference: tar --no-seek -t[z]f",
            f"{reference_s:.2f} s",
            f"{image_bytes / reference_s / 1e6:,.0f} MB/s",
            "-",
            "-",
        ],
    ]
    print(
        table(
            f"SBOM of a {image_bytes / 1e6:,.0f} MB image in {len(layers)} layers ({int(runs[0]['components'])} components, "
            f"{int(runs[0]['bytes']) / 1e3:,.0f} kB of CycloneDX), median of {args.runs} runs, each in a fresh process",
            ["what", "wall time", "throughput", "peak RSS", "RSS growth over baseline"],
            rows,
        )
    )
    print(f"Hoist / reference wall time: {hoist_s / reference_s:.2f}")


if __name__ == "__main__":
    main()
