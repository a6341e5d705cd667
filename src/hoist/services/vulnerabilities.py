"""Known vulnerabilities: OSV advisories imported offline, matched against the components an
artifact's SBOMs list, reported per artifact and used by the promotion gate on severity."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hoist.domain.access import Right
from hoist.domain.advisories import Advisory, Affected, Severity
from hoist.domain.digests import Digest
from hoist.domain.events import Action, EventDraft
from hoist.domain.inventory import AdvisoryMatcher
from hoist.domain.models import Actor, ArtifactRef, Pipeline
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.domain.sbom import Component
from hoist.services.base import Clock, retrying, utcnow
from hoist.services.catalog import SbomState, holding, resolve, sbom_state
from hoist.services.guard import Guard

MAX_IMPORT_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Finding:
    advisory: Advisory
    component: Component

    def as_dict(self) -> dict[str, Any]:
        a = self.advisory
        return {
            "id": a.id,
            "aliases": list(a.aliases),
            "summary": a.summary,
            "severity": a.severity.name.lower(),
            "score": a.score,
            "component": {"type": self.component.type, "name": self.component.key, "version": self.component.version},
            "purl": self.component.purl,
        }


@dataclass(frozen=True, slots=True)
class VulnerabilityReport:
    ref: str
    digest: str
    sboms: int
    components: int
    findings: list[Finding]
    sbom: SbomState = "present"

    @property
    def highest(self) -> Severity:
        return max((f.advisory.severity for f in self.findings), default=Severity.NONE)


def findings_for(s: MetadataSession, matcher: AdvisoryMatcher, digest: Digest) -> tuple[int, list[Component], list[Finding]]:
    """(SBOM count, components, findings) for one artifact, from the index and the advisories."""
    sboms = len(s.sboms.of(digest))
    components = list(s.sboms.components_of(digest))
    by_key: dict[tuple[str, str], list[Component]] = {}
    for c in components:
        for key in matcher.component_keys(c):
            by_key.setdefault(key, []).append(c)
    findings: dict[tuple[str, str | None], Finding] = {}
    for advisory in s.advisories.naming(by_key):
        for affected in advisory.affected:
            for c in by_key.get(matcher.affected_key(affected), []):
                if matcher.affects(affected, c):
                    findings.setdefault((advisory.id, c.purl or f"{c.key}@{c.version}"), Finding(advisory, c))
    ordered = sorted(findings.values(), key=lambda f: (-f.advisory.severity, f.advisory.id, f.component.key))
    return sboms, components, ordered


class VulnerabilityService:
    def __init__(self, metadata: MetadataStore, matcher: AdvisoryMatcher, guard: Guard, clock: Clock = utcnow) -> None:
        self._guard = guard
        self._metadata = metadata
        self._matcher = matcher
        self._clock = clock

    def import_document(
        self, data: bytes, *, filename: str, actor: Actor, pipeline: Pipeline | None = None
    ) -> dict[str, int]:
        """One uploaded file of OSV records (.json: a record or a list; .zip: one record per member)."""
        self._guard.require(actor, Right.ADMIN, asked="import advisories", subject="advisories")
        suffix = ".zip" if filename.lower().endswith(".zip") or data[:4] == b"PK\x03\x04" else ".json"
        with tempfile.TemporaryDirectory(prefix="hoist-osv-") as tmp:
            path = Path(tmp) / (Path(filename).name or f"advisories{suffix}")
            if path.suffix.lower() not in {".zip", ".json"}:
                path = path.with_suffix(suffix)
            path.write_bytes(data)
            advisories = list(self._matcher.read_files([path]))  # everything parses, or nothing is imported
        keyed = [(a, [self._matcher.affected_key(x) for x in a.affected]) for a in advisories]

        def unit_of_work() -> dict[str, int]:
            counts = {"created": 0, "updated": 0, "unchanged": 0}
            with self._metadata.session() as s:
                now = self._clock()
                for advisory, keys in keyed:
                    counts[s.advisories.upsert(advisory, keys, now=now)] += 1
                counts["total"] = s.advisories.count()
                s.audit.append(
                    EventDraft(
                        action=Action.VULN_IMPORT,
                        actor=actor.name,
                        subject="advisories",
                        details={"file": filename, "records": len(keyed), **counts},
                        pipeline=pipeline.as_dict() if pipeline else None,
                    ),
                    now=now,
                )
            return counts

        return retrying(unit_of_work)

    def report(self, ref: ArtifactRef, *, actor: Actor) -> VulnerabilityReport:
        asked = f"read the vulnerabilities of {ref}"
        self._guard.require_read(actor, holding(self._metadata, ref), asked=asked, subject=str(ref))
        with self._metadata.reader() as s:
            artifact = resolve(s, ref)
            sboms, components, findings = findings_for(s, self._matcher, artifact.digest)
            state = sbom_state(s, artifact.digest)
        return VulnerabilityReport(artifact.ref, str(artifact.digest), sboms, len(components), findings, state)

    def affecting(
        self, purl_type: str, installed: Mapping[str, Sequence[str]], *, registry: str, actor: Actor
    ) -> list[tuple[str, Advisory, Affected]]:
        """A package manager's audit question, asked of a registry (npm audit's bulk request): for
        each package name and the versions installed, every advisory entry naming that package that
        affects at least one of them, as (name, advisory, entry). Offline: only imported advisories."""
        self._guard.require_read(actor, [registry], asked=f"audit packages against {registry}", subject=registry)
        by_key = {
            self._matcher.component_keys(Component(purl_type, name))[0]: (name, versions)
            for name, versions in installed.items()
        }
        with self._metadata.reader() as s:
            advisories = s.advisories.naming(by_key)
        found: list[tuple[str, Advisory, Affected]] = []
        for advisory in sorted(advisories, key=lambda a: (-a.severity, a.id)):
            for affected in advisory.affected:
                asked = by_key.get(self._matcher.affected_key(affected))
                if asked and any(self._matcher.affects(affected, Component(purl_type, asked[0], v)) for v in asked[1]):
                    found.append((asked[0], advisory, affected))
        return found

    def severities(self, s: MetadataSession, digest: Digest) -> tuple[int, dict[str, Severity]]:
        """For the gate: SBOM count and the severity of each advisory affecting the artifact."""
        sboms, _, findings = findings_for(s, self._matcher, digest)
        return sboms, {f.advisory.id: f.advisory.severity for f in findings}


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.advisory.severity.name.lower()] = counts.get(f.advisory.severity.name.lower(), 0) + 1
    return counts
