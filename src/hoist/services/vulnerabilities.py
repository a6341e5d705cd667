"""Known vulnerabilities: OSV advisories imported offline, matched against the components an
artifact's SBOMs list, reported per artifact and used by the promotion gate on severity."""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Mapping, Sequence
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
    return findings_for_each(s, matcher, [digest])[digest]


def findings_for_each(
    s: MetadataSession, matcher: AdvisoryMatcher, digests: Collection[Digest]
) -> dict[Digest, tuple[int, list[Component], list[Finding]]]:
    """``findings_for`` of many artifacts in a bounded number of reads: the index once, the
    advisories naming any of their components once."""
    indexed = s.sboms.indexed(digests)
    by_key: dict[Digest, dict[tuple[str, str], list[Component]]] = {}
    for digest, (_, components) in indexed.items():
        keyed = by_key.setdefault(digest, {})
        for c in components:
            for key in matcher.component_keys(c):
                keyed.setdefault(key, []).append(c)
    advisories = s.advisories.naming({k for keyed in by_key.values() for k in keyed}) if indexed else []
    out: dict[Digest, tuple[int, list[Component], list[Finding]]] = {}
    for digest, (sboms, components) in indexed.items():
        findings: dict[tuple[str, str | None], Finding] = {}
        for advisory in advisories:
            for affected in advisory.affected:
                for c in by_key[digest].get(matcher.affected_key(affected), []):
                    if matcher.affects(affected, c):
                        findings.setdefault((advisory.id, c.purl or f"{c.key}@{c.version}"), Finding(advisory, c))
        ordered = sorted(findings.values(), key=lambda f: (-f.advisory.severity, f.advisory.id, f.component.key))
        out[digest] = (sboms, list(components), ordered)
    return out


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
        return self.severities_of_each(s, [digest])[digest]

    def severities_of_each(
        self, s: MetadataSession, digests: Collection[Digest]
    ) -> dict[Digest, tuple[int, dict[str, Severity]]]:
        """``severities`` of many artifacts in a bounded number of reads (the web UI's board)."""
        found = findings_for_each(s, self._matcher, digests)
        return {d: (sboms, {f.advisory.id: f.advisory.severity for f in fs}) for d, (sboms, _, fs) in found.items()}


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.advisory.severity.name.lower()] = counts.get(f.advisory.severity.name.lower(), 0) + 1
    return counts
