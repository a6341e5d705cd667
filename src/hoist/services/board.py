"""The environment board: per package, per environment (in the policy's order), what is placed in
the environment's registry, what runs there, which versions are held back from it, and the gates the
next version still has to pass to get there (the version running in the environment before, or the
newest pushed for the first). Seven reads for the whole board, narrowed in the database to what the
cells show (the newest placement per package and registry, the deployment running per package and
environment, holds, those artifacts, the candidates' placements, deployments and attachments), and
three more (SBOM counts, components, advisories) when a registry gates on SBOMs or vulnerabilities:
never one per artifact, never every version. Only what ``actor`` may read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from hoist.domain.access import Right
from hoist.domain.errors import Problem
from hoist.domain.models import Actor, Artifact, Deployment, Hold, Placement
from hoist.domain.policy import EnvironmentPolicy, Evidence, Policy
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.services.evidence import evidence_of
from hoist.services.vulnerabilities import VulnerabilityService


@dataclass(frozen=True, slots=True)
class Cell:
    placed: str | None  # the newest version placed in the environment's registry
    placed_at: datetime | None
    placed_by: str | None
    sealed: bool
    running: str | None  # the version whose deployment there succeeded last
    since: datetime | None
    deployed_by: str | None
    held: tuple[str, ...] = ()  # versions held back from the environment after a rollback
    candidate: str | None = None  # the version that would come here next
    in_registry: bool = False  # the candidate is placed in the environment's registry already
    unmet: tuple[Problem, ...] = ()  # the candidate's gates still unmet: promotion, then deployment


@dataclass(frozen=True, slots=True)
class Row:
    package: str
    format: str
    cells: Sequence[Cell]  # one per column of the board


@dataclass(frozen=True, slots=True)
class Board:
    environments: Sequence[EnvironmentPolicy]  # the columns: those whose registry the reader may read
    rows: Sequence[Row]


EMPTY = Cell(None, None, None, False, None, None, None)
Newest = dict[tuple[str, str], tuple[Placement, Artifact]]  # per package and registry: the newest placement


class BoardService:
    def __init__(self, metadata: MetadataStore, policy: Policy, vulnerabilities: VulnerabilityService) -> None:
        self._metadata = metadata
        self._policy = policy
        self._vulnerabilities = vulnerabilities

    def board(self, *, actor: Actor, query: str = "") -> Board:
        columns = [e for e in self._policy.environments if actor.may(Right.READ, e.registry)]
        with self._metadata.reader() as s:
            # what the cells show, read narrowed in the database: per package, the newest placement
            # in each shown registry and the deployment running in each environment; then only the
            # artifacts these name (and those held back), never every version of every package
            placed = s.placements.newest({e.registry for e in columns}, package_contains=query)
            current = s.deployments.current(package_contains=query)  # all: a candidate comes from the one before
            held_all = s.holds.every()
            named = {p.artifact_id for p in placed} | {d.artifact_id for d in current} | {h.artifact_id for h in held_all}
            artifacts = {a.id: a for a in s.artifacts.by_ids(named) if query.lower() in a.package.lower()}
            holds = [h for h in held_all if h.artifact_id in artifacts]
            running = {(d.environment, d.package): d for d in current if d.artifact_id in artifacts}
            newest = _newest([p for p in placed if p.artifact_id in artifacts], artifacts)
            wanted = _candidates(self._policy, columns, newest, running, artifacts)
            evidence = self._evidence(s, [artifacts[i] for i in set(wanted.values())], holds)
        packages: dict[str, str] = {}
        for (package, registry), (_, artifact) in newest.items():
            if any(e.registry == registry for e in columns):
                packages[package] = artifact.format
        held: dict[tuple[str, str], list[str]] = defaultdict(list)
        for h in holds:
            held[(artifacts[h.artifact_id].package, h.environment)].append(str(artifacts[h.artifact_id].version))
        by_package: dict[str, list[Cell]] = defaultdict(list)
        for package in packages:
            for env in columns:
                cell = _cell(newest.get((package, env.registry)), running.get((env.name, package)))
                cell = replace(cell, held=tuple(sorted(held.get((package, env.name), []))))
                chosen = wanted.get((package, env.name))
                if chosen is not None:
                    cell = self._next(cell, artifacts[chosen], evidence[chosen], env)
                by_package[package].append(cell)
        rows = [Row(name, packages[name], by_package[name]) for name in sorted(packages)]
        return Board(columns, rows)

    def _evidence(self, s: MetadataSession, candidates: Sequence[Artifact], holds: Sequence[Hold]) -> dict[int, Evidence]:
        ids = {a.id for a in candidates}
        attachments = s.attachments.of_subjects({a.digest for a in candidates})
        placed: dict[int, list[Placement]] = defaultdict(list)
        for p in s.placements.of_artifacts(ids):
            placed[p.artifact_id].append(p)
        succeeded = s.deployments.succeeded_environments_of(ids)
        evidence: dict[int, Evidence] = {}
        for a in candidates:
            mine = [h for h in holds if h.artifact_id == a.id]
            evidence[a.id] = evidence_of(attachments[a.digest], placed[a.id], succeeded.get(a.id, frozenset()), mine)
        scanned = [a for a in candidates if self._scans(evidence[a.id])]  # only where a registry gates on it
        severities = self._vulnerabilities.severities_of_each(s, {a.digest for a in scanned}) if scanned else {}
        for a in scanned:
            sboms, found = severities[a.digest]
            evidence[a.id] = replace(evidence[a.id], sboms=sboms, vulnerabilities=found)
        return evidence

    def _scans(self, evidence: Evidence) -> bool:
        return any(
            (r.require_sbom or r.max_severity is not None) and r.name not in evidence.registries
            for r in self._policy.registries.values()
        )

    def _next(self, cell: Cell, artifact: Artifact, evidence: Evidence, env: EnvironmentPolicy) -> Cell:
        """The candidate's unmet gates for ``env``: a promotion into its registry first when needed
        (the deployment's own ``registry`` problem then says the same), then the deployment's."""
        inside = env.registry in evidence.registries
        unmet = [] if inside else self._policy.promotion_problems(artifact, evidence, env.registry)
        named = {p.gate for p in unmet}
        for p in self._policy.deployment_problems(artifact, evidence, env.name):
            if p.gate not in named and not (p.gate == "registry" and not inside):
                unmet.append(p)
        return replace(cell, candidate=str(artifact.version), in_registry=inside, unmet=tuple(unmet))


def _newest(placements: Sequence[Placement], artifacts: Mapping[int, Artifact]) -> Newest:
    """Per package and registry, the newest placement."""
    newest: Newest = {}
    for p in placements:
        artifact = artifacts[p.artifact_id]
        key = (artifact.package, p.registry)
        if key not in newest or p.placed_at >= newest[key][0].placed_at:
            newest[key] = (p, artifact)
    return newest


def _candidates(
    policy: Policy,
    columns: Sequence[EnvironmentPolicy],
    newest: Newest,
    running: Mapping[tuple[str, str], Deployment],
    artifacts: Mapping[int, Artifact],
) -> dict[tuple[str, str], int]:
    """Per package and shown environment, the artifact that would come next: what runs in the
    environment before it (for the first, the newest in its registry), unless it runs here already."""
    wanted: dict[tuple[str, str], int] = {}
    for package in {a.package for a in artifacts.values()}:
        for env in columns:
            before = policy.previous(env.name)
            if before is None:
                placed = newest.get((package, env.registry))
                chosen = placed[1].id if placed else None
            else:
                deployed = running.get((before.name, package))
                chosen = deployed.artifact_id if deployed else None
            here = running.get((env.name, package))
            if chosen is not None and (here is None or here.artifact_id != chosen):
                wanted[(package, env.name)] = chosen
    return wanted


def _cell(placed: tuple[Placement, Artifact] | None, running: Deployment | None) -> Cell:
    if placed is None and running is None:
        return EMPTY
    placement, artifact = placed if placed is not None else (None, None)
    return Cell(
        placed=str(artifact.version) if artifact else None,
        placed_at=placement.placed_at if placement else None,
        placed_by=placement.placed_by if placement else None,
        sealed=placement.sealed if placement else False,
        running=str(running.version) if running else None,
        since=(running.finished_at or running.started_at) if running else None,
        deployed_by=running.actor if running else None,
    )
