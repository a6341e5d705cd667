"""The real npm client, run as CI runs it: its own HOME, user config and cache per test, so that
nothing of the machine's npm setup (or another test's) is read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import missing


@dataclass
class Npm:
    home: Path
    registry: str  # e.g. http://127.0.0.1:8080/npm/dev/

    @classmethod
    def installed(cls, home: Path, registry: str) -> Npm:
        if shutil.which("npm") is None:
            missing("npm is not installed (apt-get install npm)")
        home.mkdir(parents=True, exist_ok=True)
        npm = cls(home, registry)
        npm.userconfig.write_text("update-notifier=false\nfund=false\naudit=false\nloglevel=http\n")
        return npm

    @property
    def userconfig(self) -> Path:
        return self.home / ".npmrc"

    def login(self, token: str, registry: str | None = None) -> None:
        """``//host/path/:_authToken=<token>``: how npm keeps a token per registry URL."""
        url = (registry or self.registry).split(":", 1)[1]
        with self.userconfig.open("a") as f:
            f.write(f"{url}:_authToken={token}\n")

    def set(self, key: str, value: str) -> None:
        with self.userconfig.open("a") as f:
            f.write(f"{key}={value}\n")

    def run(
        self, *args: str, cwd: Path | None = None, ok: bool = True, registry: str | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "npm_config_cache": str(self.home / "cache"),
            "npm_config_userconfig": str(self.userconfig),
            "npm_config_globalconfig": str(self.home / "global.npmrc"),
            "npm_config_registry": registry or self.registry,
            "NO_COLOR": "1",
        }
        done = subprocess.run(
            ["npm", *args],
            cwd=cwd or self.home,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if ok and done.returncode != 0:
            raise AssertionError(f"npm {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
        if not ok and done.returncode == 0:
            raise AssertionError(f"npm {' '.join(args)} succeeded, expected a failure:\n{done.stdout}{done.stderr}")
        return done

    def json(self, *args: str, cwd: Path | None = None, registry: str | None = None) -> Any:
        return json.loads(self.run(*args, "--json", cwd=cwd, registry=registry).stdout)


def package(where: Path, name: str, version: str, **fields: Any) -> Path:
    """A package folder ``npm publish`` can publish."""
    where.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": version, "main": "index.js", "license": "MIT", **fields}
    (where / "package.json").write_text(json.dumps(manifest, indent=2))
    (where / "index.js").write_text(f"module.exports = () => {json.dumps(f'{name}@{version}')};\n")
    return where


def consumer(where: Path, dependencies: dict[str, str]) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "package.json").write_text(json.dumps({"name": "consumer", "private": True, "dependencies": dependencies}))
    return where
