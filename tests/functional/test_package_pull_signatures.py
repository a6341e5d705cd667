"""A registry that serves only signed artifacts serves no unsigned file through a package view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hoist.app import Services
from hoist.domain import errors as e
from hoist.formats.common.ingest import store_bytes
from hoist.signing import keys as k


@pytest.fixture
def config_text(tmp_path: Path) -> str:
    (tmp_path / "release.pub").write_bytes(k.public_pem(k.generate()))
    return f"""
[keys]
release = "{tmp_path / "release.pub"}"

[registries.dev]
trusted_keys = ["release"]
require_signature_to_pull = true

[registries.prod]
direct_push = false
promote_from = ["dev"]
"""


def test_an_unsigned_file_is_not_served_where_signatures_are_required(
    services: Services, token_for: Callable[..., str]
) -> None:
    ci = services.authentication.authenticate_token(token_for("ci-bot", ["role:ci"], robot=True), None)
    entry = store_bytes(b"bundle", services.uploads).entry("app.js")
    services.packages.add_files(registry="dev", package="npm/left-pad", version="1.0.0", files=[entry], actor=ci)
    with pytest.raises(e.Denied, match="serves only signed artifacts") as info:
        services.packages.open_file("dev", "npm/left-pad", "1.0.0", "app.js", ci)
    assert [p.gate for p in info.value.problems] == ["signature"]
