"""The package metadata builds without deprecation warnings (``make run`` installs it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_license_is_an_spdx_expression_the_build_backend_understands() -> None:
    project = tomllib.loads(PYPROJECT.read_text())
    # PEP 639: a table is deprecated (setuptools warns on every build); a string is an SPDX expression
    assert project["project"]["license"] == "Apache-2.0"
    setuptools = next(Requirement(r) for r in project["build-system"]["requires"] if r.startswith("setuptools"))
    # setuptools reads an SPDX string from 77 on; an older one would refuse it
    assert not setuptools.specifier.contains(Version("76.1"))
    assert setuptools.specifier.contains(Version("77.0.3"))
