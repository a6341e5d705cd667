from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hoist.config import load_settings
from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput, UnknownEnvironment, UnknownRegistry
from hoist.domain.models import Artifact, Attachment, AttachmentKind, Result
from hoist.domain.policy import AttestationRequirement, EnvironmentPolicy, Evidence, FourEyes, Policy, RegistryPolicy
from hoist.domain.versions import Channel, Version

POLICY = load_settings(environ={}).policy
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DIGEST = Digest.of(b"artifact")


def artifact(version: str = "1.4.0+1", ceiling: str | None = None, pushed_by: str = "alice") -> Artifact:
    v = Version.parse(version)
    return Artifact(
        id=1,
        package="shop-api",
        format="generic",
        version=v,
        digest=DIGEST,
        media_type="m",
        size=1,
        ceiling=ceiling or POLICY.ceiling_for(v.channel, None),
        pushed_by=pushed_by,
        pushed_at=T0,
    )


def attestation(type: str, result: Result, minutes: int = 0, env: str | None = None, id: int = 1) -> Attachment:
    return Attachment(id, DIGEST, AttachmentKind.ATTESTATION, type, result, env, "ci", T0 + timedelta(minutes=minutes))


def approval(actor: str, env: str, id: int = 100) -> Attachment:
    return Attachment(id, DIGEST, AttachmentKind.APPROVAL, "approval", None, env, actor, T0)


def gates(problems: list) -> list[str]:  # type: ignore[type-arg]
    return [p.gate for p in problems]


def test_default_policy_is_the_documented_one() -> None:
    assert [e.name for e in POLICY.environments] == ["dev", "uat", "preprod", "prod"]
    assert [e.registry for e in POLICY.environments] == ["dev", "dev", "prod", "prod"]
    assert POLICY.registry("prod").direct_push is False
    assert POLICY.registry("dev").overwrite_snapshots is True
    assert POLICY.ceilings == {Channel.SNAPSHOT: "dev", Channel.RC: "uat", Channel.RELEASE: "prod"}


def test_ceiling_can_only_be_lowered() -> None:
    assert POLICY.ceiling_for(Channel.RELEASE, "dev") == "dev"
    assert POLICY.ceiling_for(Channel.RC, None) == "uat"
    with pytest.raises(InvalidInput, match="only lower"):
        POLICY.ceiling_for(Channel.SNAPSHOT, "prod")
    with pytest.raises(UnknownEnvironment):
        POLICY.ceiling_for(Channel.RELEASE, "qa")


def test_snapshot_promotion_to_prod_names_every_unmet_gate() -> None:
    problems = POLICY.promotion_problems(artifact("1.4.0-SNAPSHOT+1"), Evidence(registries=frozenset({"dev"})), "prod")
    assert gates(problems) == ["ceiling", "attestation:unit-tests"]


def test_release_with_passing_tests_may_be_promoted() -> None:
    ev = Evidence(attachments=[attestation("unit-tests", Result.PASS)], registries=frozenset({"dev"}))
    assert POLICY.promotion_problems(artifact(), ev, "prod") == []


def test_a_later_failure_overrides_an_earlier_pass() -> None:
    ev = Evidence(
        attachments=[attestation("unit-tests", Result.PASS, 0, id=1), attestation("unit-tests", Result.FAIL, 5, id=2)],
        registries=frozenset({"dev"}),
    )
    problems = POLICY.promotion_problems(artifact(), ev, "prod")
    assert gates(problems) == ["attestation:unit-tests"] and "fail" in problems[0].message


def test_promotion_needs_a_source_registry() -> None:
    ev = Evidence(attachments=[attestation("unit-tests", Result.PASS)], registries=frozenset())
    assert gates(POLICY.promotion_problems(artifact(), ev, "prod")) == ["source"]
    assert gates(POLICY.promotion_problems(artifact(), ev, "dev")) == ["source"]
    with pytest.raises(UnknownRegistry):
        POLICY.promotion_problems(artifact(), ev, "staging")


def test_deploy_gates_in_order_of_the_chain() -> None:
    a = artifact()
    in_dev = Evidence(registries=frozenset({"dev"}))
    assert POLICY.deployment_problems(a, in_dev, "dev") == []
    assert gates(POLICY.deployment_problems(a, in_dev, "uat")) == ["previous-environment"]
    assert gates(POLICY.deployment_problems(a, in_dev, "preprod")) == ["registry", "previous-environment"]
    everything_but_prod = Evidence(registries=frozenset({"dev", "prod"}), succeeded_in=frozenset({"preprod"}))
    assert gates(POLICY.deployment_problems(a, everything_but_prod, "prod")) == ["attestation:acceptance", "approvals"]


def test_the_pushers_own_approval_does_not_count() -> None:
    base = {"registries": frozenset({"prod"}), "succeeded_in": frozenset({"preprod"})}
    accepted = attestation("acceptance", Result.PASS, env="preprod")
    own = Evidence(attachments=[accepted, approval("alice", "prod")], **base)  # type: ignore[arg-type]
    problems = POLICY.deployment_problems(artifact(pushed_by="alice"), own, "prod")
    assert gates(problems) == ["approvals"] and "alice" in problems[0].message
    other = Evidence(attachments=[accepted, approval("bob", "prod"), approval("carol", "uat")], **base)  # type: ignore[arg-type]
    assert POLICY.deployment_problems(artifact(pushed_by="alice"), other, "prod") == []


def test_the_promoters_approval_does_not_count_either_and_the_rule_says_why() -> None:
    promoted = {"registries": frozenset({"prod"}), "succeeded_in": frozenset({"preprod"}), "promoters": {"prod": "rita"}}
    accepted = attestation("acceptance", Result.PASS, env="preprod")
    evidence = Evidence(attachments=[accepted, approval("rita", "prod")], **promoted)  # type: ignore[arg-type]
    problems = POLICY.deployment_problems(artifact(pushed_by="alice"), evidence, "prod")
    assert gates(problems) == ["approvals"]
    assert "other than the pusher (alice) and the promoter (rita); it has 0" in problems[0].message
    rule = FourEyes.reading(artifact(pushed_by="alice"), evidence, "prod")
    assert [rule.why_not(name) for name in ("alice", "rita", "bob")] == ["pushed", "promoted into prod", None]


def test_a_held_artifact_is_refused_and_a_ceiling_is_enforced() -> None:
    ev = Evidence(registries=frozenset({"dev"}), succeeded_in=frozenset({"dev"}), held_in=frozenset({"uat"}))
    assert gates(POLICY.deployment_problems(artifact(), ev, "uat")) == ["hold"]
    assert gates(POLICY.deployment_problems(artifact(ceiling="dev"), ev, "uat")) == ["ceiling", "hold"]


def test_environment_scoped_attestation_requirement() -> None:
    req = AttestationRequirement.parse("acceptance@preprod")
    assert (req.type, req.environment, str(req)) == ("acceptance", "preprod", "acceptance@preprod")
    with pytest.raises(InvalidInput):
        AttestationRequirement.parse("acceptance@")


def test_policy_cross_checks_its_references() -> None:
    with pytest.raises(InvalidInput, match="unknown registry"):
        Policy(registries={"dev": RegistryPolicy("dev")}, environments=(EnvironmentPolicy("qa", "staging"),))
