"""Reading the catalogue: resolve references, list packages and versions, describe one artifact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from hoist.domain.access import Right
from hoist.domain.digests import Digest
from hoist.domain.errors import ArtifactNotFound, IntegrityFailure, PackageNotFound
from hoist.domain.jobs import SBOM
from hoist.domain.manifests import Manifest
from hoist.domain.models import (
    Actor,
    Artifact,
    ArtifactRef,
    Attachment,
    Deployment,
    DeploymentStatus,
    FileEntry,
    Hold,
    Placement,
)
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.services.guard import Guard

SbomState = Literal["present", "pending", "missing"]


def sbom_state(s: MetadataSession, digest: Digest) -> SbomState:
    """Whether the artifact has an SBOM, one is being generated (its job is queued or running), or neither."""
    if s.sboms.of(digest):
        return "present"
    return "pending" if s.jobs.pending(SBOM, str(digest)) else "missing"


@dataclass(frozen=True, slots=True)
class ArtifactSummary:
    artifact: Artifact
    placements: Sequence[Placement]
    running_in: Sequence[str]


@dataclass(frozen=True, slots=True)
class ArtifactDetails:
    artifact: Artifact
    placements: Sequence[Placement]
    files: Sequence[FileEntry]
    attachments: Sequence[Attachment]
    deployments: Sequence[Deployment]
    holds: Sequence[Hold]
    manifest: Manifest
    sbom: SbomState = "missing"


def resolve(s: MetadataSession, ref: ArtifactRef, registry: str | None = None) -> Artifact:
    """The artifact a reference names, optionally required to be in ``registry``."""
    if ref.version is not None:
        artifact = s.artifacts.get(ref.package, ref.version)
    elif ref.digest is not None:
        artifact = s.artifacts.by_digest(ref.package, ref.digest)
    else:
        artifact = None
    if artifact is None:
        known = s.artifacts.package_format(ref.package) is not None
        hint = "" if known else f" (there is no package {ref.package})"
        raise ArtifactNotFound(f"{ref} does not exist{hint}", ref=str(ref))
    if registry is not None and registry not in {p.registry for p in s.placements.of(artifact.id)}:
        raise ArtifactNotFound(f"{ref} is not in registry {registry}", ref=str(ref), registry=registry)
    return artifact


def current_deployments(deployments: Sequence[Deployment]) -> dict[tuple[str, str], Deployment]:
    """The deployment that runs now, per (environment, package): the newest that succeeded.
    ``deployments`` are newest first."""
    current: dict[tuple[str, str], Deployment] = {}
    for d in deployments:
        if d.status is DeploymentStatus.SUCCEEDED:
            current.setdefault((d.environment, d.package), d)
    return current


class CatalogService:
    def __init__(self, metadata: MetadataStore, policy: Policy, guard: Guard) -> None:
        self._metadata = metadata
        self._policy = policy
        self._guard = guard

    def summaries(self, *, actor: Actor, package: str | None = None, registry: str | None = None) -> list[ArtifactSummary]:
        """Versions with their placements and where they run: those in a registry ``actor`` may read."""
        if registry is not None:
            self._policy.registry(registry)
        with self._metadata.reader() as s:
            if package is not None and s.artifacts.package_format(package) is None:
                raise PackageNotFound(f"there is no package {package}", package=package)
            artifacts = s.artifacts.find(package=package, registry=registry)
            running = current_deployments(s.deployments.history(package=package))
            return [
                ArtifactSummary(
                    artifact=a,
                    placements=s.placements.of(a.id),
                    running_in=[env for (env, _), d in running.items() if d.artifact_id == a.id and d.digest == a.digest],
                )
                for a in artifacts
                if any(actor.may(Right.READ, p.registry) for p in s.placements.of(a.id))
            ]

    def describe(self, ref: ArtifactRef, *, actor: Actor, registry: str | None = None) -> ArtifactDetails:
        """Everything about one version; needs read on a registry holding it."""
        if registry is not None:
            self._policy.registry(registry)
        with self._metadata.reader() as s:
            artifact = resolve(s, ref, registry)
            manifest = s.manifests.get(artifact.digest)
            if manifest is None:
                raise IntegrityFailure(f"the manifest of {artifact.ref} ({artifact.digest}) is missing")
            placements = s.placements.of(artifact.id)
            details = ArtifactDetails(
                artifact=artifact,
                placements=placements,
                files=manifest.files(),
                attachments=s.attachments.of(artifact.digest),
                deployments=[d for d in s.deployments.history(package=artifact.package) if d.artifact_id == artifact.id],
                holds=s.holds.of(artifact.id),
                manifest=manifest,
                sbom=sbom_state(s, artifact.digest),
            )
        where = {p.registry for p in placements}  # a denial is audited after the read ended
        self._guard.require_read(actor, where, asked=f"read {artifact.ref}", subject=artifact.ref)
        return details

    def artifact(self, ref: ArtifactRef) -> Artifact:
        with self._metadata.reader() as s:
            return resolve(s, ref)

    def refs(self, artifact_ids: set[int]) -> dict[int, str]:
        """``NAME@VERSION`` of each artifact id."""
        with self._metadata.reader() as s:
            return {i: s.artifacts.get_by_id(i).ref for i in artifact_ids}


def holding(metadata: MetadataStore, ref: ArtifactRef) -> list[str]:
    """The registries an artifact is placed in (``ArtifactNotFound`` when it does not exist)."""
    with metadata.reader() as s:
        artifact = resolve(s, ref)
        return sorted({p.registry for p in s.placements.of(artifact.id)})
