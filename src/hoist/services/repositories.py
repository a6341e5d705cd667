"""Repositories ``<registry>/<package>``: the manifests each holds (by digest, by version, by tag),
its blobs, its movable tags and the manifests about another (subject); storing a manifest with the
rules Hoist adds on top (versions, sealing, policy, signatures) and the deletion rules. The wire
shapes (OCI references, descriptors, the hot path's reads) live in ``hoist.formats.oci``.

A version tag (``1.4.0_58``) is the artifact ``package@1.4.0+58``: pushing it publishes that version
through ``PublishService.record_version``, exactly as ``hoist push`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hoist.domain.access import Permission, Right
from hoist.domain.digests import Digest
from hoist.domain.errors import (
    BlobCorrupt,
    BlobNotFound,
    Denied,
    InvalidDigest,
    InvalidManifest,
    ManifestBlobUnknown,
    ManifestNotFound,
    RepositoryNotFound,
    VersionExists,
)
from hoist.domain.events import Action, EventDraft
from hoist.domain.manifests import Manifest, SizeMismatch, parse_manifest, size_mismatches
from hoist.domain.models import OCI, Actor, Pipeline
from hoist.domain.names import validate_package_name, validate_plain_package_name
from hoist.domain.packages import split_key
from hoist.domain.policy import Policy, signature_problems
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.domain.retention import deployed, rollback_window
from hoist.domain.tags import Tag, TagKind
from hoist.domain.versions import Version
from hoist.services.base import Clock, retrying, utcnow
from hoist.services.blobs import Blobs
from hoist.services.catalog import current_deployments
from hoist.services.guard import Guard, may_reference
from hoist.services.publishing import PublishService

MAX_SIGNATURE_BLOB = 1024 * 1024


Reference = Digest | Tag  # what names a manifest in a repository: its digest, a version, a tag


def _name(reference: Reference) -> str:
    return str(reference) if isinstance(reference, Digest) else reference.name


class ManifestRecorder(Protocol):
    """Records, inside the unit of work storing a manifest, what a hook found in it."""

    def __call__(self, s: MetadataSession, registry: str, package: str, actor: Actor, pipeline: Pipeline | None) -> None: ...


class ManifestHook(Protocol):
    """What a format reads in every manifest pushed (/v2's cosign signatures), called before the
    unit of work (slow checks stay outside the transaction) with a reader of small blobs; the
    recorder it returns runs inside it, once the manifest is stored."""

    def __call__(self, manifest: Manifest, read: Callable[[Digest], bytes]) -> ManifestRecorder: ...


@dataclass(frozen=True, slots=True)
class RepositoryNames:
    versions: list[Version]
    tags: list[str]  # movable and attached tags


@dataclass(frozen=True, slots=True)
class PushedManifest:
    digest: Digest
    subject: Digest | None
    tags: tuple[str, ...]


class RepositoryService:
    def __init__(
        self,
        metadata: MetadataStore,
        blobs: Blobs,
        policy: Policy,
        publisher: PublishService,
        guard: Guard,
        clock: Clock = utcnow,
        *,
        hooks: Sequence[ManifestHook] = (),
    ) -> None:
        self._guard = guard
        self._metadata = metadata
        self._blobs = blobs
        self._policy = policy
        self._publisher = publisher
        self._hooks = tuple(hooks)
        self._clock = clock

    def check(self, registry: str, package: str) -> None:
        """The repository name is valid and its registry exists (NAME_UNKNOWN / NAME_INVALID)."""
        if registry not in self._policy.registries:
            raise RepositoryNotFound(f"there is no registry {registry!r}: repositories are <registry>/<package>")
        validate_package_name(package)

    # -- reading ----------------------------------------------------------------------------------

    def manifest(self, registry: str, package: str, reference: Reference) -> Manifest:
        """The manifest a digest, a version or a tag names in the repository."""
        self.check(registry, package)
        with self._metadata.reader() as s:
            digest = self._resolve(s, registry, package, reference)
            manifest = s.manifests.get(digest) if digest is not None else None
            if manifest is None:
                _require_repository(s, registry, package)
                name = _name(reference)
                raise ManifestNotFound(f"manifest {name} is not in {registry}/{package}", reference=name)
            reg = self._policy.registry(registry)
            artifact = s.artifacts.by_digest(package, manifest.digest) if reg.require_signature_to_pull else None
            if artifact is not None:
                problems = signature_problems(reg, artifact, s.attachments.of(artifact.digest))
                if problems:
                    raise Denied(f"registry {registry} serves only signed artifacts: {problems[0].message}", problems)
            return manifest

    def _resolve(self, s: MetadataSession, registry: str, package: str, reference: Reference) -> Digest | None:
        if isinstance(reference, Digest):
            return reference if s.repositories.has_manifest(registry, package, reference) else None
        if reference.version is not None:
            artifact = s.artifacts.get(package, reference.version)
            if artifact is None or registry not in {p.registry for p in s.placements.of(artifact.id)}:
                return None
            return artifact.digest
        return s.repositories.tag(registry, package, reference.name)

    def require_blob(self, registry: str, package: str, digest: Digest) -> None:
        """The repository holds the blob (linked, or needed by a manifest in it); BlobNotFound if not."""
        self.check(registry, package)
        if not self._metadata.hot.has_blob(registry, package, str(digest)):
            raise BlobNotFound(f"blob {digest} is not in {registry}/{package}", digest=str(digest))

    def names(self, registry: str, package: str) -> RepositoryNames:
        """What names a manifest in the repository: the versions placed in the registry and the
        movable tags. RepositoryNotFound for an unknown repository."""
        self.check(registry, package)
        with self._metadata.reader() as s:
            _require_repository(s, registry, package)
            versions = [a.version for a in s.artifacts.find(package=package, registry=registry)]
            movable = [name for name, _ in s.repositories.tags(registry, package)]
        return RepositoryNames(versions, movable)

    def catalog(self) -> list[tuple[str, str]]:
        """Every (registry, package) that holds something."""
        with self._metadata.reader() as s:
            return list(s.repositories.repositories())

    def referrers(self, registry: str, package: str, subject: Digest) -> list[Manifest]:
        """The manifests in the repository whose subject is ``subject``."""
        self.check(registry, package)
        with self._metadata.reader() as s:
            return list(s.repositories.referrers(registry, package, subject))

    # -- writing ----------------------------------------------------------------------------------

    def put_manifest(
        self,
        registry: str,
        package: str,
        raw: bytes,
        content_type: str | None,
        *,
        expected: Digest | None,
        tags: Sequence[Tag],
        actor: Actor,
        pipeline: Pipeline | None = None,
    ) -> PushedManifest:
        """Store the manifest in the repository (its bytes must hash to ``expected``, when given) and
        point ``tags`` at it: a version tag publishes that version, others move."""
        self.check(registry, package)
        tags = list(tags)
        algorithm = "sha256"
        if expected is not None:
            if Digest.of(raw, expected.algorithm) != expected:
                raise InvalidDigest(f"the manifest's bytes do not hash to {expected}", digest=str(expected))
            algorithm = expected.algorithm
        manifest = parse_manifest(raw, content_type or None, algorithm)
        digest = manifest.digest
        held = self._held_blobs(manifest, actor)
        _refuse_mismatches(size_mismatches(manifest, held.get, lambda _: None))

        recorders = [hook(manifest, self._read_small) for hook in self._hooks]

        def unit_of_work() -> PushedManifest | str:
            with self._metadata.session() as s:
                attachment = self._is_attachment(s, registry, package, manifest, tags)
                if not attachment:  # a native package's versions are published through its own view
                    validate_plain_package_name(package)
                pusher = actor.may(Right.PUSH, registry)
                direct = pusher and self._policy.registry(registry).direct_push
                if not direct and not attachment:
                    return "denied" if not pusher else "refused"
                pushed = self._record(s, registry, package, manifest, held, tags, actor, pipeline)
                for recorder in recorders:
                    recorder(s, registry, package, actor, pipeline)
                return pushed

        pushed = retrying(unit_of_work)
        # Refusals change nothing and are audited in a unit of work of their own, after this one ended.
        if pushed == "denied":  # a promote-only actor (a release signing) pushes signatures and attestations only
            needed = [Permission(Right.PUSH, registry)]
            self._guard.deny(actor, needed, asked=f"push {registry}/{package}@{digest}", subject=f"{registry}/{package}")
        if isinstance(pushed, str):
            self._publisher.refuse_direct_push(registry, f"{registry}/{package}@{digest}", package, actor, pipeline)
        if pushed is not None and self._publisher.on_manifest is not None:
            self._publisher.on_manifest(registry, package, manifest)
        return pushed

    def _held_blobs(self, manifest: Manifest, actor: Actor) -> dict[Digest, int | None]:
        """Every blob of the manifest the registry holds, with its stored size (None: fsck marked it
        corrupt), each touched (a garbage collection running now keeps it). ManifestBlobUnknown for
        one the repository cannot have; a foreign layer that is not stored here is left out."""
        held: dict[Digest, int | None] = {}
        descriptors = [d for _, d in manifest.blob_descriptors()]
        # one that may not be named is answered as if absent: no leak
        stored = self._blobs.touch_all(d.digest for d in descriptors if may_reference(self._metadata, actor, d.digest))
        for descriptor in descriptors:
            blob = descriptor.digest
            try:
                if blob not in stored:
                    raise BlobNotFound(str(blob))
                held[blob] = self._blobs.stat(blob).size
            except BlobNotFound:
                if descriptor.foreign:  # fetched from its URLs, as the image spec allows
                    continue
                raise ManifestBlobUnknown(
                    f"the manifest needs blob {blob}, which was never uploaded", digest=str(blob)
                ) from None
            except BlobCorrupt:  # fsck's finding, repaired by pushing the bytes again: no size to compare
                held[blob] = None
        return held

    def _record(
        self,
        s: MetadataSession,
        registry: str,
        package: str,
        manifest: Manifest,
        held: dict[Digest, int | None],
        tags: list[Tag],
        actor: Actor,
        pipeline: Pipeline | None,
    ) -> PushedManifest:
        reg, digest = self._policy.registry(registry), manifest.digest
        for child in manifest.manifests:
            if not s.repositories.has_manifest(registry, package, child.digest):
                raise ManifestBlobUnknown(f"the index lists manifest {child.digest}, which is not in {registry}/{package}")
        _refuse_mismatches(size_mismatches(manifest, lambda _: None, s.manifests.size))
        now = self._clock()
        s.manifests.add(manifest, now=now)
        s.artifacts.ensure_package(package, _format(package), now=now)
        for blob in held:  # mounted automatically: the bytes are already stored
            s.repositories.link_blob(registry, package, blob, now=now)
        added = s.repositories.add_manifest(registry, package, digest, now=now)
        versioned = False
        for tag in tags:
            if tag.kind is TagKind.VERSION:
                assert tag.version is not None
                versioned = True
                try:
                    self._publisher.record_version(
                        s,
                        registry,
                        package,
                        tag.version,
                        manifest,
                        actor=actor,
                        pipeline=pipeline,
                        format=OCI,
                        ceiling=self._policy.ceiling_for(tag.version.channel, None),
                    )
                except VersionExists as exc:
                    raise Denied(f"tag {tag.name} is a version: {exc.message}", **exc.details) from None
                continue
            if tag.kind is TagKind.MOVABLE and not reg.movable_tags:
                raise Denied(
                    f"registry {registry} does not allow movable tags like {tag.name!r}: tag a version (e.g. 1.4.0_58)",
                    tag=tag.name,
                )
            previous = s.repositories.set_tag(registry, package, tag.name, digest, actor=actor.name, now=now)
            if previous != digest:
                s.audit.append(
                    self._event(
                        Action.TAG_MOVE,
                        registry,
                        package,
                        tag.name,
                        digest,
                        actor,
                        pipeline,
                        previous=str(previous) if previous else None,
                    ),
                    now=now,
                )
        if added and not versioned:
            s.audit.append(
                self._event(
                    Action.MANIFEST_PUSH,
                    registry,
                    package,
                    str(digest),
                    digest,
                    actor,
                    pipeline,
                    media_type=manifest.media_type,
                    subject=str(manifest.subject.digest) if manifest.subject else None,
                ),
                now=now,
            )
        return PushedManifest(digest, manifest.subject.digest if manifest.subject else None, tuple(t.name for t in tags))

    def _read_small(self, digest: Digest) -> bytes:
        with self._blobs.open(digest) as f:
            return f.read(MAX_SIGNATURE_BLOB)

    def _is_attachment(self, s: MetadataSession, registry: str, package: str, manifest: Manifest, tags: list[Tag]) -> bool:
        """Signatures, attestations and SBOMs of what a repository already holds may be added to it
        where nothing else may (by a promote-only actor, into a promotion-only registry, under a
        native package's key): a referrer of a manifest there, tagged (if at all) with that
        manifest's attached tags."""
        subjects = {t.subject for t in tags}
        if manifest.subject is not None:
            subjects.add(manifest.subject.digest)
        if not subjects or any(t.kind is not TagKind.ATTACHED for t in tags) or None in subjects:
            return False
        return all(s.repositories.has_manifest(registry, package, d) for d in subjects if d is not None)

    def delete_manifest(
        self, registry: str, package: str, reference: Reference, *, actor: Actor, pipeline: Pipeline | None = None
    ) -> None:
        self.check(registry, package)
        reg = self._policy.registry(registry)
        if not reg.allow_delete:
            raise Denied(f"registry {registry} does not allow deletes", registry=registry)

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                now = self._clock()
                if isinstance(reference, Tag):
                    if reference.kind is not TagKind.ATTACHED:
                        validate_plain_package_name(package)  # a native package's tags are its view's
                    if reference.kind is TagKind.VERSION:
                        raise Denied(f"{reference.name} is a version: delete it by digest")
                    previous = s.repositories.delete_tag(registry, package, reference.name)
                    if previous is None:
                        raise ManifestNotFound(f"tag {reference.name} is not in {registry}/{package}")
                    s.audit.append(
                        self._event(Action.TAG_DELETE, registry, package, reference.name, previous, actor, pipeline),
                        now=now,
                    )
                    return
                digest = reference
                if not s.repositories.has_manifest(registry, package, digest):
                    raise ManifestNotFound(f"manifest {digest} is not in {registry}/{package}")
                artifact = s.artifacts.by_digest(package, digest)
                if artifact is not None:  # a native package's versions leave through its view (or hoist delete)
                    validate_plain_package_name(package)
                self.check_deletable(s, registry, package, digest)
                if artifact is not None:
                    s.placements.remove(artifact.id, registry)
                s.repositories.remove_manifest(registry, package, digest)
                s.audit.append(
                    self._event(
                        Action.MANIFEST_DELETE,
                        registry,
                        package,
                        str(digest),
                        digest,
                        actor,
                        pipeline,
                        version=str(artifact.version) if artifact else None,
                    ),
                    now=now,
                )

        retrying(unit_of_work)

    def check_deletable(self, s: MetadataSession, registry: str, package: str, digest: Digest) -> None:
        """Raises ``Denied`` saying why when the version with this manifest may not leave ``registry``:
        sealed there, running in or in the rollback window of an environment reading it. OCI DELETE
        and ``hoist delete`` follow this one rule."""
        artifact = s.artifacts.by_digest(package, digest)
        if artifact is None:
            return
        if any(p.sealed for p in s.placements.of(artifact.id) if p.registry == registry):
            raise Denied(f"{artifact.ref} is sealed in {registry}: it cannot be deleted")
        served = {e.name for e in self._policy.environments_of(registry)}
        history = s.deployments.history(package=package)
        running = [
            env for (env, _), d in current_deployments(history).items() if d.artifact_id == artifact.id and env in served
        ]
        if running:
            raise Denied(f"{artifact.ref} runs in {', '.join(sorted(running))}: it cannot be deleted")
        window = rollback_window(deployed(history), self._policy.rollback_window).get(artifact.id, frozenset()) & served
        if window:
            raise Denied(f"{artifact.ref} is in the rollback window of {', '.join(sorted(window))}: it cannot be deleted")

    def link_stored_blob(
        self, registry: str, package: str, digest: Digest, actor: Actor, *, source: tuple[str, str] | None = None
    ) -> bool:
        """Link a blob already stored into the repository without moving a byte: one the ``source``
        repository (registry, package) holds, which the caller checked the actor may read; without a
        source, one the actor may name anyway in a manifest (``may_reference``). False when it is not
        held so (or no longer stored): the caller takes the bytes instead."""
        self.check(registry, package)
        held = self._metadata.hot.has_blob(*source, str(digest)) if source else may_reference(self._metadata, actor, digest)
        if not held or not self._blobs.touch(digest):
            return False
        self.link_blob(registry, package, digest)
        return True

    def link_blob(self, registry: str, package: str, digest: Digest) -> None:
        """An upload into the repository committed: the blob is now in it."""
        self.check(registry, package)

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                now = self._clock()
                s.artifacts.ensure_package(package, _format(package), now=now)
                s.repositories.link_blob(registry, package, digest, now=now)

        retrying(unit_of_work)

    def unlink_blob(
        self, registry: str, package: str, digest: Digest, *, actor: Actor, pipeline: Pipeline | None = None
    ) -> None:
        self.check(registry, package)
        if not self._policy.registry(registry).allow_delete:
            raise Denied(f"registry {registry} does not allow deletes", registry=registry)

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                if not s.repositories.unlink_blob(registry, package, digest):
                    raise BlobNotFound(f"blob {digest} is not linked in {registry}/{package}", digest=str(digest))
                s.audit.append(
                    self._event(Action.BLOB_UNLINK, registry, package, str(digest), digest, actor, pipeline),
                    now=self._clock(),
                )

        retrying(unit_of_work)

    @staticmethod
    def _event(
        action: Action,
        registry: str,
        package: str,
        what: str,
        digest: Digest | None,
        actor: Actor,
        pipeline: Pipeline | None,
        **details: Any,
    ) -> EventDraft:
        separator = "@" if ":" in what else ":"
        return EventDraft(
            action=action,
            actor=actor.name,
            subject=f"{registry}/{package}{separator}{what}",
            package=package,
            digest=str(digest) if digest else None,
            details={"registry": registry, **{k: v for k, v in details.items() if v is not None}},
            pipeline=pipeline.as_dict() if pipeline else None,
        )


def _refuse_mismatches(found: list[SizeMismatch]) -> None:
    """A descriptor's size is a promise to every client that fetches it: refuse a broken one."""
    if found:
        first = found[0]
        raise InvalidManifest(first.message, **first.as_dict())


def _format(package: str) -> str:
    """The format a package takes when /v2 is the first to name it: a native key's own (a blob
    uploaded there before its first publish), else OCI."""
    fmt, _ = split_key(package)
    return str(fmt) if fmt is not None else OCI


def _require_repository(s: MetadataSession, registry: str, package: str) -> None:
    """A repository is known once its package is (so one emptied by deletes still answers)."""
    if s.artifacts.package_format(package) is None:
        raise RepositoryNotFound(f"repository {registry}/{package} is unknown")
