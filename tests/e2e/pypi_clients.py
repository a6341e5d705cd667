"""The real PyPI clients, driven the way a CI job and a developer drive them: ``python -m build``,
``twine upload``, ``pip install`` and ``uv pip install`` (each isolated from the machine's own pip and
uv configuration, so they reach only the index under test)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from urllib.parse import quote, urlsplit, urlunsplit

from tests.conftest import missing

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path

    @property
    def files(self) -> list[Path]:
        return [self.wheel, self.sdist]


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (pip install -e '.[dev]')")
        raise AssertionError("unreachable")
    return str(path)


def run(*args: str, env: dict[str, str] | None = None, ok: bool = True) -> CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, env=env)
    if ok and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


def build_package(where: Path, name: str, version: str, module: str) -> Built:
    """A tiny pure-Python project built by ``python -m build`` into a wheel and an sdist."""
    project = where / name
    (project / "src" / module).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\nrequires-python = ">=3.8"\n'
    )
    (project / "src" / module / "__init__.py").write_text(f'def hello():\n    return "hello from {name} {version}"\n')
    run(sys.executable, "-m", "build", "--outdir", str(project / "dist"), str(project))
    wheels = list((project / "dist").glob("*.whl"))
    sdists = list((project / "dist").glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list((project / "dist").iterdir())
    return Built(wheels[0], sdists[0])


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def twine_upload(repository_url: str, user: str, password: str, files: list[Path], ok: bool = True) -> CompletedProcess[str]:
    env = {**os.environ, "TWINE_USERNAME": user, "TWINE_PASSWORD": password}
    return run(
        tool("twine"), "upload", "--verbose", "--repository-url", repository_url, "--non-interactive",
        "--disable-progress-bar", *map(str, files), env=env, ok=ok,
    )  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def requirements(path: Path, pins: dict[str, list[Path]]) -> Path:
    """A hash-pinned requirements file (``pip install --require-hashes``) for the given files."""
    lines = []
    for pin, files in pins.items():
        hashes = " ".join(f"--hash=sha256:{sha256(f)}" for f in files)
        lines.append(f"{pin} {hashes}")
    path.write_text("\n".join(lines) + "\n")
    return path


def pip_install(index_url: str, target: Path, *args: str, ok: bool = True) -> CompletedProcess[str]:
    """pip into a target folder, reaching nothing but ``index_url`` (``--isolated``: no global config)."""
    return run(
        sys.executable, "-m", "pip", "install", "--isolated", "--no-cache-dir", "--disable-pip-version-check",
        "--no-deps", "--index-url", index_url, "--target", str(target), *args, ok=ok,
    )  # fmt: skip


def uv_install(index_url: str, target: Path, *args: str, ok: bool = True) -> CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    return run(
        tool("uv"), "pip", "install", "--no-config", "--no-cache", "--no-deps", "--python", sys.executable,
        "--index-url", index_url, "--target", str(target), *args, env=env, ok=ok,
    )  # fmt: skip


def hello(target: Path, module: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = run(sys.executable, "-c", f"import {module}; print({module}.hello())", env=env)
    return done.stdout.strip()
