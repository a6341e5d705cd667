"""Retention plans: the retain rules, the guarantees that beat them, the rollback window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hoist.domain.digests import Digest
from hoist.domain.retention import Candidate, RetentionRules, plan, rollback_window
from hoist.domain.versions import Version

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def version(n: int, text: str, days_ago: int, **kw: object) -> Candidate:
    return Candidate(
        artifact_id=n,
        package=str(kw.pop("package", "app")),
        version=Version.parse(text),
        digest=Digest.of(f"{n}".encode()),
        placed_at=NOW - timedelta(days=days_ago),
        sealed=bool(kw.pop("sealed", False)),
        **kw,  # type: ignore[arg-type]
    )


def verdicts(rules: RetentionRules, *candidates: Candidate) -> dict[str, tuple[bool, str]]:
    return {v.candidate.ref: (v.delete, v.reason) for v in plan("dev", rules, candidates, now=NOW).verdicts}


def test_without_rules_everything_stays() -> None:
    out = verdicts(RetentionRules(), version(1, "1.0.0", 900), version(2, "2.0.0-SNAPSHOT", 900))
    assert all(not delete for delete, _ in out.values())
    assert out["app@1.0.0"][1] == "kept: no retention rule for this registry"


def test_snapshots_go_after_snapshot_days_whatever_else_keeps_them() -> None:
    rules = RetentionRules(snapshot_days=7, keep_last=10)
    out = verdicts(rules, version(1, "1.0.0-SNAPSHOT", 8), version(2, "1.1.0-SNAPSHOT", 6), version(3, "1.0.0", 400))
    assert out["app@1.0.0-SNAPSHOT"] == (True, "snapshot_days=7: a snapshot placed 8 days ago")
    assert out["app@1.1.0-SNAPSHOT"] == (False, "kept: a snapshot younger than 7 days")
    assert out["app@1.0.0"] == (False, "kept: one of the 10 newest versions of app")


def test_keep_last_and_max_age_keep_the_union() -> None:
    rules = RetentionRules(max_age_days=30, keep_last=2)
    out = verdicts(
        rules,
        version(1, "1.0.0", 100),
        version(2, "1.1.0", 90),
        version(3, "1.2.0", 80),
        version(4, "1.3.0", 10),
        version(5, "0.9.0", 5),  # young but old-numbered: kept by age
        version(6, "3.0.0", 200, package="other"),  # newest of its own package
    )
    assert out["app@1.3.0"][0] is False and out["app@1.2.0"] == (False, "kept: one of the 2 newest versions of app")
    assert out["app@0.9.0"] == (False, "kept: younger than 30 days")
    assert out["app@1.1.0"] == (True, "placed 90 days ago, over max_age_days=30; not among the 2 newest versions")
    assert out["app@1.0.0"][0] is True
    assert out["other@3.0.0"][0] is False


def test_keep_releases_alone_touches_releases_only() -> None:
    rules = RetentionRules(keep_releases=1)
    out = verdicts(rules, version(1, "1.0.0", 50), version(2, "2.0.0", 40), version(3, "3.0.0-rc.1", 300))
    assert out["app@2.0.0"] == (False, "kept: one of the 1 newest releases of app")
    assert out["app@1.0.0"] == (True, "placed 50 days ago; not among the 1 newest releases")
    assert out["app@3.0.0-rc.1"] == (False, "kept: no rule of this registry applies to a rc version")


def test_guarantees_beat_every_rule() -> None:
    rules = RetentionRules(snapshot_days=1, max_age_days=1, keep_last=1, sealed_min_days=30)
    index = version(9, "9.0.0", 0)
    child = version(8, "8.0.0", 100)
    index = Candidate(**{**{f: getattr(index, f) for f in index.__slots__}, "children": frozenset({child.digest})})  # type: ignore[arg-type]
    out = verdicts(
        rules,
        version(1, "1.0.0", 100, running_in=frozenset({"prod"})),
        version(2, "2.0.0", 100, rollback_in=frozenset({"uat", "dev"})),
        version(3, "3.0.0", 10, sealed=True),
        version(4, "4.0.0", 100, sealed=True),
        version(5, "5.0.0-SNAPSHOT", 100, running_in=frozenset({"dev"})),
        child,
        index,
    )
    assert out["app@1.0.0"] == (False, "guarantee: runs in prod now")
    assert out["app@2.0.0"] == (False, "guarantee: in the rollback window of dev, uat")
    assert out["app@3.0.0"] == (False, "guarantee: sealed here less than 30 days ago")
    assert out["app@4.0.0"][0] is True  # sealed long ago: rules apply again
    assert out["app@5.0.0-SNAPSHOT"] == (False, "guarantee: runs in dev now")
    assert out["app@8.0.0"] == (False, "guarantee: named by a kept index")


def test_the_rollback_window_is_the_last_k_distinct_versions_per_environment_and_package() -> None:
    t = [NOW + timedelta(hours=i) for i in range(10)]
    history = [
        ("prod", "app", 1, t[0]),
        ("prod", "app", 2, t[1]),
        ("prod", "app", 1, t[2]),  # redeployed: counts once, at its latest
        ("prod", "app", 3, t[3]),
        ("prod", "app", 4, t[4]),
        ("dev", "app", 1, t[5]),
        ("prod", "web", 7, t[6]),
    ]
    window = rollback_window(history, 3)
    assert window == {4: {"prod"}, 3: {"prod"}, 1: {"prod", "dev"}, 7: {"prod"}}


candidates = st.lists(
    st.builds(
        lambda n, minor, channel, days, sealed, running, rollback: version(
            n,
            f"1.{minor}.0" + {"release": "", "rc": "-rc.1", "snapshot": "-SNAPSHOT"}[channel],
            days,
            sealed=sealed,
            running_in=frozenset({"prod"}) if running else frozenset(),
            rollback_in=frozenset({"uat"}) if rollback else frozenset(),
        ),
        st.integers(0, 10_000),
        st.integers(0, 30),
        st.sampled_from(["release", "rc", "snapshot"]),
        st.integers(0, 400),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    ),
    max_size=25,
    unique_by=lambda c: (c.artifact_id, c.ref),
).filter(lambda cs: len({c.artifact_id for c in cs}) == len(cs) and len({c.ref for c in cs}) == len(cs))
rule_sets = st.builds(
    RetentionRules,
    max_age_days=st.none() | st.integers(1, 100),
    keep_last=st.none() | st.integers(1, 5),
    keep_releases=st.none() | st.integers(1, 5),
    snapshot_days=st.none() | st.integers(1, 30),
    sealed_min_days=st.integers(0, 100),
)


@settings(max_examples=300, deadline=None)
@given(candidates, rule_sets)
def test_no_plan_deletes_what_a_guarantee_protects(items: list[Candidate], rules: RetentionRules) -> None:
    result = plan("dev", rules, items, now=NOW)
    assert len(result.verdicts) == len(items)
    for v in result.verdicts:
        c = v.candidate
        protected = c.running_in or c.rollback_in or (c.sealed and NOW - c.placed_at < timedelta(days=rules.sealed_min_days))
        assert not (protected and v.delete), v
        assert v.reason
        if not rules.configured:
            assert not v.delete
