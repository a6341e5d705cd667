"""How long the ``hoist`` CLI takes to start: a pipeline runs it many times, so start-up is paid often.

    python -m bench.cli_startup [--runs 30] [--importtime]

Median wall time and CPU time (user + system, of the child: the figure to trust on a shared, busy
machine) of N runs each of ``hoist --help``, ``hoist --version``, ``hoist ls --help`` and
``hoist push --help`` (a fresh process each time, as a pipeline step starts one), and with
``--importtime`` the slowest imports of ``hoist --help`` by cumulative time (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

HOIST = shutil.which("hoist", path=os.path.dirname(sys.executable)) or "hoist"
COMMANDS = (["--help"], ["--version"], ["ls", "--help"], ["push", "--help"])


def median_seconds(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``runs`` fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def slowest_imports(top: int = 15) -> list[tuple[int, str]]:
    """Cumulative microseconds per module imported by ``hoist --help``."""
    code = "import sys; sys.argv = ['hoist', '--help']; from hoist.cli.main import main; main()"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=False)
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--importtime", action="store_true", help="also list the slowest imports")
    args = parser.parse_args()
    print(f"medians of {args.runs} runs")
    print(f"{'command':<24} {'wall':>9} {'cpu':>9}")
    for command in COMMANDS:
        wall, cpu = median_seconds([HOIST, *command], args.runs)
        print(f"{'hoist ' + ' '.join(command):<24} {wall * 1000:>6.0f} ms {cpu * 1000:>6.0f} ms", flush=True)
    if args.importtime:
        print("\nslowest imports of `hoist --help` (cumulative):")
        for micros, module in slowest_imports():
            print(f"{micros / 1000:>8.1f} ms  {module}")


if __name__ == "__main__":
    main()
