"""The builder-trust gate: a registry's ``trusted_builders`` decide whose SLSA provenance counts."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hoist.config import ConfigError, load_settings
from hoist.domain import attestations as a
from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput
from hoist.domain.models import Artifact, Attachment, AttachmentKind, Pipeline, Result
from hoist.domain.policy import Evidence, Policy, TrustedBuilder, builder_problems
from hoist.domain.versions import Version

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DIGEST = Digest.of(b"artifact")
DEFAULT = load_settings(environ={}).policy
GITHUB = "https://github.com/actions/runner"


def policy(*builders: str) -> Policy:
    prod = dataclasses.replace(DEFAULT.registry("prod"), trusted_builders=tuple(TrustedBuilder.parse(b) for b in builders))
    return dataclasses.replace(DEFAULT, registries={**DEFAULT.registries, "prod": prod})


def artifact() -> Artifact:
    return Artifact(1, "shop-api", "generic", Version.parse("1.0.0+1"), DIGEST, "m", 1, "prod", "ci", T0)


def pushed(actor: str, kind: str, project: str | None = None, id: int = 1) -> Attachment:
    """Provenance the server signed at a push, as publishing records it."""
    details = {"builder": GITHUB, "pusher_kind": kind, "pipeline": {"provider": "github-actions", "id": "7"}}
    pipeline = Pipeline("github-actions", "7", project=project)
    evidence = AttachmentKind.ATTESTATION
    return Attachment(id, DIGEST, evidence, a.PROVENANCE_TYPE, Result.PASS, None, actor, T0, details, pipeline)


def signed(key: str | None, builder: str = "https://ci.example/builder", id: int = 10) -> Attachment:
    """A client-signed provenance statement, as the server records it on arrival."""
    details: dict[str, Any] = {"predicate_type": a.PROVENANCE, "builder": builder, "fingerprint": str(id)}
    if key:
        details["key"] = key
    else:
        details["reason"] = "no trusted key verifies this signature"
    result = Result.PASS if key else Result.FAIL
    return Attachment(id, DIGEST, AttachmentKind.SIGNATURE, "sigstore-bundle", result, None, "ci", T0, details)


def unit_tests() -> Attachment:
    return Attachment(99, DIGEST, AttachmentKind.ATTESTATION, "unit-tests", Result.PASS, None, "ci", T0)


def problems(p: Policy, *evidence: Attachment) -> list[str]:
    ev = Evidence(attachments=[unit_tests(), *evidence], registries=frozenset({"dev"}))
    return [f"{x.gate}: {x.message}" for x in p.promotion_problems(artifact(), ev, "prod")]


def test_no_trusted_builders_means_no_gate() -> None:
    assert problems(policy()) == []


def test_provenance_signed_by_a_trusted_key_counts() -> None:
    assert problems(policy("key:ci-release"), signed("ci-release")) == []


def test_provenance_signed_by_another_key_does_not_count_and_the_refusal_says_why() -> None:
    (refusal,) = problems(policy("key:ci-release", "robot:ci"), signed("laptop", builder="https://evil.example/b"))
    assert refusal == (
        "provenance: no SLSA provenance from a trusted builder for shop-api@1.0.0+1 "
        "(found: builder https://evil.example/b signed by key laptop, not trusted); prod trusts key:ci-release, robot:ci"
    )


def test_provenance_no_configured_key_verifies_does_not_count() -> None:
    (refusal,) = problems(policy("key:ci-release"), signed(None))
    assert "signed by no configured key, not trusted" in refusal


def test_server_signed_provenance_counts_for_the_named_robot_only() -> None:
    assert problems(policy("robot:ci"), pushed("ci", "robot")) == []
    (refusal,) = problems(policy("robot:ci"), pushed("bob", "user"))
    assert f"builder {GITHUB} signed by the server for a push by user bob, not trusted" in refusal
    (refusal,) = problems(policy("robot:ci"), pushed("ci", "user"))  # a person who took the robot's name is no robot
    assert "push by user ci" in refusal


def test_a_robot_can_be_narrowed_to_one_pipeline_project() -> None:
    p = policy("robot:ci@acme/shop-api")
    assert problems(p, pushed("ci", "robot", project="acme/shop-api")) == []
    (refusal,) = problems(p, pushed("ci", "robot", project="acme/other"))
    assert "push by robot ci from acme/other, not trusted" in refusal


def test_an_attestation_merely_typed_slsa_provenance_is_not_provenance() -> None:
    forged = Attachment(5, DIGEST, AttachmentKind.ATTESTATION, a.PROVENANCE_TYPE, Result.PASS, None, "ci", T0, {})
    (refusal,) = problems(policy("robot:ci"), forged)
    assert "(found: none)" in refusal


def test_one_trusted_provenance_among_untrusted_ones_suffices() -> None:
    found = (signed("laptop", id=1), signed("ci-release", id=2), pushed("bob", "user"))
    assert problems(policy("key:ci-release"), *found) == []


def test_builder_problems_is_pure_and_lists_everything_found() -> None:
    registry = policy("key:ci-release").registry("prod")
    (problem,) = builder_problems(registry, artifact(), [signed("laptop", id=1), pushed("ci", "robot")])
    assert problem.gate == "provenance"
    assert "signed by key laptop, not trusted; builder" in problem.message and "push by robot ci" in problem.message


@pytest.mark.parametrize("text", ["ci", "key:", "robot:", "team:ci", "key:a@b", "robot:ci@", "robot: ci"])
def test_malformed_trusted_builders_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="key:NAME, robot:NAME or robot:NAME@PROJECT"):
        TrustedBuilder.parse(text)


def test_builder_of_reads_slsa_v1_and_bounds_it() -> None:
    assert a.builder_of({"runDetails": {"builder": {"id": GITHUB}}}) == GITHUB
    assert a.builder_of({"builder": {"id": GITHUB}}) is None  # SLSA v0.2's place: not v1 provenance
    assert a.builder_of({"runDetails": {"builder": {"id": "x" * 1000}}}) == "x" * 256


def config_trusting(tmp_path: Path, builders: list[str]) -> Path:
    """A hoist.toml with a key named ``release`` and a prod registry trusting ``builders``."""
    pub = tmp_path / "release.pub"
    pub.write_text("not read by load_settings")
    config = tmp_path / "hoist.toml"
    config.write_text(
        f"""
[keys]
release = "{pub}"
[registries.dev]
[registries.prod]
promote_from = ["dev"]
trusted_builders = {json.dumps(builders)}
[environments.dev]
registry = "dev"
[environments.prod]
registry = "prod"
[ceilings]
rc = "dev"
"""
    )
    return config


def test_config_check_names_every_bad_builder(tmp_path: Path) -> None:
    config = config_trusting(tmp_path, ["key:release", "key:ci-release", "robot:ci", "team:ops", "robot:"])
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    assert len(info.value.problems) == 2
    text = "\n".join(info.value.problems)
    assert "registries.prod.trusted_builders: unknown key 'ci-release' in 'key:ci-release' (define it under [keys])" in text
    assert "trusted builder 'team:ops' must be key:NAME" in text and "trusted builder 'robot:' must be" in text
    assert "'key:release'" not in text and "'robot:ci'" not in text


def test_config_builds_the_gate(tmp_path: Path) -> None:
    config = config_trusting(tmp_path, ["key:release", "robot:ci@acme/shop"])
    prod = load_settings(config, environ={}).policy.registry("prod")
    assert prod.trusted_builders == (TrustedBuilder("key", "release"), TrustedBuilder("robot", "ci", "acme/shop"))
    assert [str(b) for b in prod.trusted_builders] == ["key:release", "robot:ci@acme/shop"]
