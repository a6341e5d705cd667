"""The environment board: per package, per environment (in the policy's order), what is placed in
the environment's registry and what runs there. Three reads for the whole board (artifacts,
placements, deployments), never one per artifact; only what ``actor`` may read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hoist.domain.access import Right
from hoist.domain.models import Actor, Artifact, Deployment, Placement
from hoist.domain.policy import EnvironmentPolicy, Policy
from hoist.domain.ports import MetadataStore
from hoist.services.catalog import current_deployments


@dataclass(frozen=True, slots=True)
class Cell:
    placed: str | None  # the newest version placed in the environment's registry
    placed_at: datetime | None
    placed_by: str | None
    sealed: bool
    running: str | None  # the version whose deployment there succeeded last
    since: datetime | None
    deployed_by: str | None


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


class BoardService:
    def __init__(self, metadata: MetadataStore, policy: Policy) -> None:
        self._metadata = metadata
        self._policy = policy

    def board(self, *, actor: Actor, query: str = "") -> Board:
        columns = [e for e in self._policy.environments if actor.may(Right.READ, e.registry)]
        with self._metadata.reader() as s:
            artifacts = {a.id: a for a in s.artifacts.find() if query.lower() in a.package.lower()}
            placements = [p for p in s.placements.every() if p.artifact_id in artifacts]
            running = current_deployments(s.deployments.history())
        newest: dict[tuple[str, str], tuple[Placement, Artifact]] = {}
        for p in placements:
            artifact = artifacts[p.artifact_id]
            key = (artifact.package, p.registry)
            if key not in newest or p.placed_at >= newest[key][0].placed_at:
                newest[key] = (p, artifact)
        packages: dict[str, str] = {}
        for (package, registry), (_, artifact) in newest.items():
            if any(e.registry == registry for e in columns):
                packages[package] = artifact.format
        by_package: dict[str, list[Cell]] = defaultdict(list)
        for package in packages:
            for env in columns:
                by_package[package].append(_cell(newest.get((package, env.registry)), running.get((env.name, package))))
        rows = [Row(name, packages[name], by_package[name]) for name in sorted(packages)]
        return Board(columns, rows)


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
