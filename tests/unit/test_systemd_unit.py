"""deploy/hoist.service is a unit systemd accepts, whose commands are Hoist's own and whose stop
timeout leaves room for the server's shutdown grace."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

from hoist.config import load_settings
from tests.conftest import missing

UNIT = Path(__file__).parents[2] / "deploy" / "hoist.service"
INSTALLED = "/opt/hoist/bin/hoist"


def test_systemd_verifies_the_unit_with_hoist_installed(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("systemd-analyze (apt install systemd) is not installed")
        return
    hoist = Path(sys.prefix) / "bin" / "hoist"
    unit = tmp_path / "hoist.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED, str(hoist)))
    checked = subprocess.run([analyze, "verify", str(unit)], check=False, capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr


def test_the_unit_runs_hoists_commands_and_waits_longer_than_its_grace() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    service = parser["Service"]
    assert service["ExecStartPre"] == f"{INSTALLED} db upgrade" and service["ExecStart"] == f"{INSTALLED} serve"
    assert int(service["TimeoutStopSec"]) > load_settings(environ={}).shutdown_grace
    assert service["KillSignal"] == "SIGTERM" and service["User"] == "hoist"
