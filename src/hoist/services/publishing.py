"""Publishing: turn uploaded blobs into an artifact version in a registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NoReturn

from hoist.domain import attestations as a
from hoist.domain.access import Right
from hoist.domain.errors import (
    BlobNotFound,
    Conflict,
    Denied,
    InvalidInput,
    InvalidManifest,
    VersionExists,
)
from hoist.domain.events import Action, EventDraft
from hoist.domain.jobs import SBOM
from hoist.domain.manifests import EMPTY_BLOB, EMPTY_DIGEST, Manifest, generic_manifest, parse_manifest
from hoist.domain.models import (
    GENERIC,
    OCI,
    Actor,
    Artifact,
    AttachmentKind,
    FileEntry,
    Pipeline,
    Placement,
    PlacementVia,
    Result,
)
from hoist.domain.names import validate_file_name, validate_plain_package_name
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.domain.versions import Channel, Version, bounded_build
from hoist.services.base import Clock, artifact_event, record_refusal, retrying, utcnow
from hoist.services.blobs import Blobs
from hoist.services.guard import Guard, may_reference
from hoist.services.statements import SignedStatements, rfc3339

ManifestHook = Callable[[str, str, Manifest], None]  # (registry, package, manifest), after it is stored
AUTO = "auto"


class Outcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    OVERWRITTEN = "overwritten"
    PLACED = "placed"  # already stored elsewhere, now also in this registry


@dataclass(frozen=True, slots=True)
class PublishResult:
    artifact: Artifact
    registry: str
    outcome: Outcome
    replaced: str | None = None


class PublishService:
    def __init__(
        self,
        metadata: MetadataStore,
        blobs: Blobs,
        policy: Policy,
        statements: SignedStatements,
        guard: Guard,
        clock: Clock = utcnow,
        on_manifest: ManifestHook | None = None,
    ) -> None:
        self._guard = guard
        self.on_manifest = on_manifest
        self._metadata = metadata
        self._blobs = blobs
        self._policy = policy
        self._statements = statements
        self._clock = clock

    def publish(
        self,
        *,
        registry: str,
        package: str,
        version: str,
        files: list[FileEntry],
        actor: Actor,
        build: int | str | None = None,
        max_env: str | None = None,
        pipeline: Pipeline | None = None,
    ) -> PublishResult:
        validate_plain_package_name(package)
        reg = self._policy.registry(registry)
        parsed = Version.parse(version)
        if build is not None and build != AUTO and not isinstance(build, int):
            raise InvalidInput(f"--build must be a number or 'auto', not {build!r}")
        if build is not None and parsed.has_build:
            raise InvalidInput(f"{version} already has a build part: drop --build", version=version)
        if isinstance(build, int):
            bounded_build(build)  # refused before anything is checked or written
        ceiling = self._policy.ceiling_for(parsed.channel, max_env)
        if not reg.direct_push:
            self.refuse_direct_push(registry, f"{package}@{parsed}", package, actor, pipeline)
        self._guard.require(
            actor, Right.PUSH, registry, asked=f"push {package}@{parsed} into {registry}", subject=f"{package}@{parsed}"
        )
        self.check_files(files, actor)
        self.ensure_empty_config()

        def unit_of_work() -> PublishResult:
            with self._metadata.session() as s:
                number = build
                if build == AUTO:
                    number = s.artifacts.next_build(package, parsed)
                final = parsed.with_build(number) if isinstance(number, int) else parsed
                manifest = parse_manifest(generic_manifest(package, final, files))
                return self.record_version(
                    s, registry, package, final, manifest, ceiling=ceiling, actor=actor, pipeline=pipeline, format=GENERIC
                )

        result = retrying(unit_of_work)
        if self.on_manifest is not None and result.outcome in {Outcome.CREATED, Outcome.OVERWRITTEN}:
            self.on_manifest(registry, package, parse_manifest(generic_manifest(package, result.artifact.version, files)))
        return result

    def check_files(self, files: list[FileEntry], actor: Actor) -> None:
        if not files:
            raise InvalidManifest("an artifact needs at least one file")
        for f in files:
            validate_file_name(f.name)  # before the blob: a bad name is the error to report
            try:
                stored = self._blobs.stat(f.digest)
                if not may_reference(self._metadata, actor, f.digest):  # answered as if absent: no leak
                    raise BlobNotFound(str(f.digest))
                if not self._blobs.touch(f.digest):  # touched: a garbage collection running now keeps it
                    raise BlobNotFound(str(f.digest))
            except BlobNotFound:
                raise BlobNotFound(f"file {f.name}: blob {f.digest} has not been uploaded", digest=str(f.digest)) from None
            if stored.size != f.size:
                raise InvalidInput(f"file {f.name}: the blob holds {stored.size} bytes, not {f.size}")

    def ensure_empty_config(self) -> None:
        try:
            self._blobs.stat(EMPTY_DIGEST)
        except BlobNotFound:
            self._blobs.put(EMPTY_BLOB)

    def refuse_direct_push(
        self, registry: str, subject: str, package: str, actor: Actor, pipeline: Pipeline | None
    ) -> NoReturn:
        """A registry that only accepts promotions refuses a push: say how to get there, and audit it."""
        sources = ", ".join(self._policy.registry(registry).promote_from) or "another registry"
        message = f"registry {registry} accepts no direct pushes: push to {sources} and promote with --to {registry}"
        record_refusal(
            self._metadata,
            EventDraft(
                action=Action.PUSH_REFUSED,
                actor=actor.name,
                subject=subject,
                package=package,
                details={"registry": registry, "reason": message},
                pipeline=pipeline.as_dict() if pipeline else None,
            ),
            self._clock,
        )
        raise Denied(message, registry=registry)

    def record_version(
        self,
        s: MetadataSession,
        registry: str,
        package: str,
        version: Version,
        manifest: Manifest,
        *,
        ceiling: str,
        actor: Actor,
        pipeline: Pipeline | None,
        format: str,
        added: Sequence[str] = (),
    ) -> PublishResult:
        """Make ``manifest`` the version ``version`` of ``package`` in ``registry``, inside the caller's
        unit of work: whatever path the bytes came by (files, an OCI manifest), versions behave alike.

        ``added`` names files that join the version's files (a package format's files arrive one
        request at a time: a pom, then its jar): that is not a change of bytes but of the file set,
        allowed while the version sits unsealed in this registry alone."""
        result = self._place_version(
            s,
            registry,
            package,
            version,
            manifest,
            ceiling=ceiling,
            actor=actor,
            pipeline=pipeline,
            format=format,
            added=added,
        )
        if result.outcome in {Outcome.CREATED, Outcome.OVERWRITTEN}:  # new bytes: their SBOM, off the request path
            digest = str(result.artifact.digest)
            s.jobs.enqueue(SBOM, {"package": package, "digest": digest}, key=digest)
        return result

    def _place_version(
        self,
        s: MetadataSession,
        registry: str,
        package: str,
        version: Version,
        manifest: Manifest,
        *,
        ceiling: str,
        actor: Actor,
        pipeline: Pipeline | None,
        format: str,
        added: Sequence[str] = (),
    ) -> PublishResult:
        now = self._clock()
        existing_format = s.artifacts.package_format(package)
        if existing_format not in {None, format} and not {existing_format, format} <= {GENERIC, OCI}:
            raise Conflict(f"package {package} holds {existing_format} artifacts, not {format} ones")
        s.manifests.add(manifest, now=now)
        s.artifacts.ensure_package(package, format, now=now)
        s.repositories.add_manifest(registry, package, manifest.digest, now=now)
        existing = s.artifacts.get(package, version)
        if existing is None:
            artifact = s.artifacts.add(
                package=package,
                format=format,
                version=version,
                manifest=manifest,
                ceiling=ceiling,
                pushed_by=actor.name,
                pushed_at=now,
                pipeline=pipeline,
            )
            s.placements.add(artifact.id, registry, sealed=False, via=PlacementVia.PUSH, actor=actor.name, now=now)
            s.audit.append(
                artifact_event(
                    Action.PUSH,
                    artifact,
                    actor,
                    pipeline,
                    registry=registry,
                    ceiling=ceiling,
                    channel=str(version.channel),
                    size=artifact.size,
                ),
                now=now,
            )
            self._provenance(s, artifact, registry, actor, pipeline, now)
            return PublishResult(artifact, registry, Outcome.CREATED)
        placements = s.placements.of(existing.id)
        here = [p for p in placements if p.registry == registry]
        if existing.digest == manifest.digest:
            if here:
                return PublishResult(existing, registry, Outcome.UNCHANGED)
            s.placements.add(existing.id, registry, sealed=False, via=PlacementVia.PUSH, actor=actor.name, now=now)
            s.audit.append(artifact_event(Action.PLACE, existing, actor, pipeline, registry=registry), now=now)
            return PublishResult(existing, registry, Outcome.PLACED)
        if added:
            return self._add_files(s, existing, registry, manifest, added, placements, actor, pipeline, now)
        refusal = self._overwrite_refusal(existing, registry, placements)
        if refusal:
            raise VersionExists(refusal, existing_digest=str(existing.digest), version=str(version))
        updated = s.artifacts.replace_content(existing.id, manifest, pushed_by=actor.name, pushed_at=now)
        s.audit.append(
            artifact_event(
                Action.OVERWRITE,
                updated,
                actor,
                pipeline,
                registry=registry,
                replaced=str(existing.digest),
            ),
            now=now,
        )
        self._provenance(s, updated, registry, actor, pipeline, now)
        return PublishResult(updated, registry, Outcome.OVERWRITTEN, replaced=str(existing.digest))

    def _add_files(
        self,
        s: MetadataSession,
        existing: Artifact,
        registry: str,
        manifest: Manifest,
        added: Sequence[str],
        placements: Sequence[Placement],
        actor: Actor,
        pipeline: Pipeline | None,
        now: datetime,
    ) -> PublishResult:
        names = ", ".join(added)
        sealed = sorted(p.registry for p in placements if p.sealed)
        elsewhere = sorted(p.registry for p in placements if p.registry != registry)
        if sealed or elsewhere or not any(p.registry == registry for p in placements):
            where = f"sealed in {', '.join(sealed)}" if sealed else f"in {', '.join(elsewhere) or 'another registry'}"
            raise VersionExists(
                f"{existing.ref} is {where}: its files are fixed; publish a new version to add {names}",
                existing_digest=str(existing.digest),
                version=str(existing.version),
            )
        updated = s.artifacts.replace_content(existing.id, manifest, pushed_by=actor.name, pushed_at=now)
        # the file set it replaces was a step on the way, never a version of its own: not kept pullable
        s.repositories.remove_manifest(registry, existing.package, existing.digest)
        s.audit.append(
            artifact_event(
                Action.ADD_FILES,
                updated,
                actor,
                pipeline,
                registry=registry,
                added=list(added),
                replaced=str(existing.digest),
            ),
            now=now,
        )
        self._provenance(s, updated, registry, actor, pipeline, now)
        return PublishResult(updated, registry, Outcome.OVERWRITTEN, replaced=str(existing.digest))

    def _provenance(
        self, s: MetadataSession, artifact: Artifact, registry: str, actor: Actor, pipeline: Pipeline | None, now: datetime
    ) -> None:
        """A push from a CI run leaves SLSA provenance: which pipeline, project, ref and commit built these bytes.
        The server notarises what the pushing pipeline declared; it cannot see inside the build."""
        if pipeline is None:
            return
        builder = a.builder_id(pipeline.provider)
        started = rfc3339(now)
        predicate = a.provenance(provider=pipeline.provider, pipeline=pipeline.as_dict(), builder=builder, started=started)
        signed = self._statements.attach(s, artifact, [registry], predicate_type=a.PROVENANCE, predicate=predicate, now=now)
        s.attachments.add(
            subject=artifact.digest,
            kind=AttachmentKind.ATTESTATION,
            type=a.PROVENANCE_TYPE,
            result=Result.PASS,
            environment=None,
            actor=actor.name,
            now=now,
            # who pushed, and whether a robot: what a registry's trusted_builders weigh
            details={"pipeline": pipeline.as_dict(), "builder": builder, "pusher_kind": actor.kind, **signed.as_details()},
            pipeline=pipeline,
        )

    def _overwrite_refusal(self, existing: Artifact, registry: str, placements: Sequence[Placement]) -> str | None:
        """Why the version may not take other bytes, or None for an overwritable snapshot."""
        base = f"{existing.ref} already exists with digest {existing.digest}"
        if existing.channel is not Channel.SNAPSHOT:
            return f"{base}; {existing.channel} versions never change: publish a new version or build"
        if not self._policy.registry(registry).overwrite_snapshots:
            return f"{base}; registry {registry} does not allow overwriting snapshots"
        sealed = sorted(p.registry for p in placements if p.sealed)
        if sealed:
            return f"{base}; it is sealed in {', '.join(sealed)}"
        elsewhere = sorted(p.registry for p in placements if p.registry != registry)
        if elsewhere:
            return f"{base}; it is also in {', '.join(elsewhere)}"
        return None
