"""Retention as data, decided by one pure function: which artifact versions a registry keeps, which
it may delete, and why.

Rules are *retain* rules, per registry: a version is kept when one of them keeps it, and is a
deletion candidate only when rules are configured and none keeps it.

- snapshots: ``snapshot_days`` keeps a snapshot that young; older snapshots go (whatever the
  general rules say: DEV is cleaned fast);
- releases: ``keep_releases`` keeps the newest N releases of each package;
- every version: ``max_age_days`` keeps what was placed less than D days ago, ``keep_last`` the
  newest N versions of each package (not counting snapshots where ``snapshot_days`` rules them).

Guarantees always win over the rules, and are checked first: what any environment runs now; the
last ``rollback_window`` successfully deployed versions of each package in each environment; what
is sealed in the registry and younger than ``sealed_min_days``; and what a kept version references
(an index's children).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from hoist.domain.digests import Digest
from hoist.domain.models import Deployment, DeploymentStatus
from hoist.domain.versions import Channel, Version

DEFAULT_ROLLBACK_WINDOW = 3


@dataclass(frozen=True, slots=True)
class RetentionRules:
    max_age_days: int | None = None
    keep_last: int | None = None
    keep_releases: int | None = None
    snapshot_days: int | None = None
    sealed_min_days: int = 0  # a guarantee: sealed versions younger than this are never deleted
    trash_days: int = 7  # deleted versions stay restorable this long, then are purged

    @property
    def configured(self) -> bool:
        return any(x is not None for x in (self.max_age_days, self.keep_last, self.keep_releases, self.snapshot_days))


@dataclass(frozen=True, slots=True)
class Candidate:
    """One artifact version placed in the registry, with what the guarantees look at."""

    artifact_id: int
    package: str
    version: Version
    digest: Digest
    placed_at: datetime
    sealed: bool
    running_in: frozenset[str] = frozenset()  # environments running it now
    rollback_in: frozenset[str] = frozenset()  # environments whose rollback window holds it
    children: frozenset[Digest] = frozenset()  # manifests its index names

    @property
    def ref(self) -> str:
        return f"{self.package}@{self.version}"


@dataclass(frozen=True, slots=True)
class Verdict:
    candidate: Candidate
    delete: bool
    reason: str
    guarantee: bool = False  # kept by a guarantee (which no rule can override)


@dataclass(frozen=True, slots=True)
class Plan:
    registry: str
    verdicts: Sequence[Verdict] = field(default_factory=tuple)

    @property
    def deletions(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.delete]


def plan(registry: str, rules: RetentionRules, candidates: Iterable[Candidate], *, now: datetime) -> Plan:
    """Every version placed in ``registry`` with its verdict and the rule or guarantee deciding it."""
    items = list(candidates)
    by_package: dict[str, list[Candidate]] = defaultdict(list)
    for c in items:
        by_package[c.package].append(c)
    newest: dict[int, int] = {}  # artifact id -> rank among its package's versions (0 = newest)
    newest_release: dict[int, int] = {}
    for versions in by_package.values():
        ordered = sorted(versions, key=lambda c: c.version, reverse=True)
        if rules.snapshot_days is not None:  # snapshots have their own rule: they never crowd out the rest
            ordered = [c for c in ordered if c.version.channel is not Channel.SNAPSHOT]
        newest.update({c.artifact_id: i for i, c in enumerate(ordered)})
        releases = [c for c in ordered if c.version.channel is Channel.RELEASE]
        newest_release.update({c.artifact_id: i for i, c in enumerate(releases)})
    decided = {c.artifact_id: _by_rules(rules, c, newest, newest_release, now) for c in items}
    # a kept version keeps what its index names (children placed here as versions of their own)
    kept_children = {d for c in items if not decided[c.artifact_id].delete for d in c.children}
    verdicts = []
    for c in sorted(items, key=lambda c: (c.package, c.version)):
        guaranteed = _guarantee(rules, c, now, kept_children)
        verdicts.append(Verdict(c, False, guaranteed, True) if guaranteed else decided[c.artifact_id])
    return Plan(registry, tuple(verdicts))


def _guarantee(rules: RetentionRules, c: Candidate, now: datetime, kept_children: set[Digest]) -> str | None:
    if c.running_in:
        return f"guarantee: runs in {', '.join(sorted(c.running_in))} now"
    if c.rollback_in:
        return f"guarantee: in the rollback window of {', '.join(sorted(c.rollback_in))}"
    if c.sealed and now - c.placed_at < timedelta(days=rules.sealed_min_days):
        return f"guarantee: sealed here less than {rules.sealed_min_days} days ago"
    if c.digest in kept_children:
        return "guarantee: named by a kept index"
    return None


def _by_rules(
    rules: RetentionRules, c: Candidate, newest: Mapping[int, int], newest_release: Mapping[int, int], now: datetime
) -> Verdict:
    kept = _kept_by(rules, c, newest, newest_release, now)
    if kept is not None:
        return Verdict(c, False, kept)
    age = (now - c.placed_at).days
    if c.version.channel is Channel.SNAPSHOT and rules.snapshot_days is not None:
        return Verdict(c, True, f"snapshot_days={rules.snapshot_days}: a snapshot placed {age} days ago")
    why = [f"placed {age} days ago" + (f", over max_age_days={rules.max_age_days}" if rules.max_age_days else "")]
    if rules.keep_last is not None:
        why.append(f"not among the {rules.keep_last} newest versions")
    if rules.keep_releases is not None and c.version.channel is Channel.RELEASE:
        why.append(f"not among the {rules.keep_releases} newest releases")
    return Verdict(c, True, "; ".join(why))


def _kept_by(
    rules: RetentionRules, c: Candidate, newest: Mapping[int, int], newest_release: Mapping[int, int], now: datetime
) -> str | None:
    """The retain rule keeping ``c``, or None when the rules that apply to it all let it go."""
    if not rules.configured:
        return "kept: no retention rule for this registry"
    age = now - c.placed_at
    if c.version.channel is Channel.SNAPSHOT and rules.snapshot_days is not None:
        return (
            f"kept: a snapshot younger than {rules.snapshot_days} days"
            if age < timedelta(days=rules.snapshot_days)
            else None
        )
    release_rule = rules.keep_releases is not None and c.version.channel is Channel.RELEASE
    checks = (
        (
            release_rule and newest_release[c.artifact_id] < (rules.keep_releases or 0),
            f"one of the {rules.keep_releases} newest releases of {c.package}",
        ),
        (
            rules.max_age_days is not None and age < timedelta(days=rules.max_age_days or 0),
            f"younger than {rules.max_age_days} days",
        ),
        (
            rules.keep_last is not None and newest[c.artifact_id] < (rules.keep_last or 0),
            f"one of the {rules.keep_last} newest versions of {c.package}",
        ),
    )
    for holds, why in checks:
        if holds:
            return f"kept: {why}"
    if rules.max_age_days is None and rules.keep_last is None and not release_rule:
        return f"kept: no rule of this registry applies to a {c.version.channel} version"
    return None


def deployed(history: Iterable[Deployment]) -> list[tuple[str, str, int, datetime]]:
    """The successful deployments of ``history`` as ``rollback_window`` reads them."""
    return [
        (d.environment, d.package, d.artifact_id, d.finished_at or d.started_at)
        for d in history
        if d.status is DeploymentStatus.SUCCEEDED
    ]


def rollback_window(
    history: Iterable[tuple[str, str, int, datetime]], size: int = DEFAULT_ROLLBACK_WINDOW
) -> dict[int, frozenset[str]]:
    """From successful deployments ``(environment, package, artifact id, finished at)``, newest
    first (deployments finished in the same instant keep that order): for each artifact, the
    environments whose last ``size`` distinct deployed versions of its package hold it."""
    latest: dict[tuple[str, str], dict[int, datetime]] = defaultdict(dict)
    for environment, package, artifact_id, at in history:
        seen = latest[(environment, package)]
        seen[artifact_id] = max(at, seen.get(artifact_id, at))
    held: dict[int, set[str]] = defaultdict(set)
    for (environment, _package), seen in latest.items():
        for artifact_id, _at in sorted(seen.items(), key=lambda x: x[1], reverse=True)[:size]:
            held[artifact_id].add(environment)
    return {a: frozenset(envs) for a, envs in held.items()}


@dataclass(frozen=True, slots=True)
class TrashItem:
    id: int
    artifact_id: int
    registry: str
    sealed: bool
    via: str
    placed_by: str
    placed_at: datetime
    members: tuple[Digest, ...]  # manifests taken out of the repository with it (its referrers)
    tags: tuple[tuple[str, Digest], ...]  # movable tags that pointed at those
    reason: str
    deleted_by: str
    deleted_at: datetime
    purge_after: datetime
    restored_at: datetime | None = None
    restored_by: str | None = None
    purged_at: datetime | None = None

    @property
    def state(self) -> str:
        return "restored" if self.restored_at else "purged" if self.purged_at else "trashed"


class TrashRepository(Protocol):
    def add(self, item: TrashItem) -> TrashItem:
        """Stores ``item`` (its ``id`` is ignored) and returns it with its id."""
        ...

    def get(self, item_id: int) -> TrashItem | None: ...

    def items(self, *, registry: str | None = None, state: str | None = None) -> Sequence[TrashItem]:
        """Newest first; ``state`` is trashed, restored or purged."""
        ...

    def restored(self, item_id: int, *, actor: str, now: datetime) -> bool: ...

    def purged(self, item_id: int, *, now: datetime) -> bool: ...

    def due(self, now: datetime) -> Sequence[TrashItem]:
        """Trashed items whose time in the trash is over."""
        ...

    def trashed_artifacts(self) -> set[int]:
        """Artifacts with an item still restorable: their bytes must stay."""
        ...
