"""Repositories ``<registry>/<package>``, as OCI clients see them: manifests by tag or digest, blobs,
tags, referrers, the catalogue; and the rules Hoist adds on top (versions, sealing, policy).

A version tag (``1.4.0_58``) is the artifact ``package@1.4.0+58``: pushing it publishes that version
through ``PublishService.record_version``, exactly as ``hoist push`` does.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from hoist.domain.access import Permission, Right
from hoist.domain.digests import Digest
from hoist.domain.errors import (
    BlobCorrupt,
    BlobNotFound,
    Denied,
    HoistError,
    InvalidDigest,
    InvalidManifest,
    InvalidTag,
    ManifestBlobUnknown,
    ManifestNotFound,
    RepositoryNotFound,
    VersionExists,
)
from hoist.domain.events import Action, EventDraft
from hoist.domain.manifests import Manifest, SizeMismatch, parse_manifest, size_mismatches
from hoist.domain.models import OCI, Actor, AttachmentKind, Pipeline, Result
from hoist.domain.names import validate_package_name, validate_plain_package_name
from hoist.domain.policy import Policy, signature_problems
from hoist.domain.ports import BlobStore, MetadataSession, MetadataStore, SignatureCheck, SignatureVerifier
from hoist.domain.retention import deployed, rollback_window
from hoist.domain.tags import Tag, TagKind
from hoist.services.base import Clock, retrying, utcnow
from hoist.services.catalog import current_deployments
from hoist.services.guard import Guard, may_reference
from hoist.services.publishing import PublishService
from hoist.services.serving import BlobLocation, locate


@dataclass(frozen=True, slots=True)
class ManifestBytes:
    raw: bytes
    media_type: str
    digest: str


class _ManifestCache:
    """Manifests by digest are immutable: keep the most recently served ones in memory (per process;
    nothing to invalidate, so it is safe with any number of workers and hosts)."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._items: OrderedDict[str, ManifestBytes] = OrderedDict()
        self._bytes = 0
        self._max_entries, self._max_bytes = max_entries, max_bytes
        self._lock = threading.Lock()

    def get(self, digest: str) -> ManifestBytes | None:
        with self._lock:
            found = self._items.get(digest)
            if found is not None:
                self._items.move_to_end(digest)
            return found

    def put(self, item: ManifestBytes) -> None:
        with self._lock:
            if item.digest in self._items:
                return
            self._items[item.digest] = item
            self._bytes += len(item.raw)
            while len(self._items) > self._max_entries or self._bytes > self._max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old.raw)


@functools.lru_cache(maxsize=4096)
def _parse_tag(name: str) -> Tag:
    return Tag.parse(name)


MAX_SIGNATURE_BLOB = 1024 * 1024
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")


@dataclass(frozen=True, slots=True)
class PushedManifest:
    digest: Digest
    subject: Digest | None
    tags: tuple[str, ...]


class RepositoryService:
    def __init__(
        self,
        metadata: MetadataStore,
        blobs: BlobStore,
        policy: Policy,
        publisher: PublishService,
        verifier: SignatureVerifier,
        guard: Guard,
        clock: Clock = utcnow,
    ) -> None:
        self._guard = guard
        self._metadata = metadata
        self._blobs = blobs
        self._policy = policy
        self._publisher = publisher
        self._verifier = verifier
        self._clock = clock
        self._cache = _ManifestCache()

    def check(self, registry: str, package: str) -> None:
        """The repository name is valid and its registry exists (NAME_UNKNOWN / NAME_INVALID)."""
        if registry not in self._policy.registries:
            raise RepositoryNotFound(f"there is no registry {registry!r}: repositories are <registry>/<package>")
        validate_package_name(package)

    # -- reading ----------------------------------------------------------------------------------

    @property
    def lookups_are_local(self) -> bool:
        return self._metadata.hot.local

    def lookup(self, registry: str, package: str, reference: str) -> ManifestBytes | None:
        """The hot path of pulls: a manifest by tag or digest in a few indexed reads, or None for
        anything it does not find (``manifest`` then says precisely what is wrong)."""
        reg = self._policy.registries.get(registry)
        if reg is None or reg.require_signature_to_pull:  # the full path checks signatures
            return None
        hot = self._metadata.hot
        if ":" in reference:
            if not _DIGEST.fullmatch(reference) or not hot.has_manifest(registry, package, reference):
                return None
            digest = reference
        else:
            try:
                tag = _parse_tag(reference)
            except HoistError:
                return None
            found = (
                hot.version_digest(registry, package, tag.version.canonical)
                if tag.version is not None
                else hot.tag_digest(registry, package, reference)
            )
            if found is None:
                return None
            digest = found
        cached = self._cache.get(digest)
        if cached is None:
            stored = hot.manifest(digest)
            if stored is None:
                return None
            cached = ManifestBytes(stored[0], stored[1], digest)
            self._cache.put(cached)
        return cached

    def tag_names(self, registry: str, package: str) -> list[str] | None:
        """The hot path of tags lists, sorted; None when the repository has none (``tags`` decides
        between an empty list and NAME_UNKNOWN)."""
        if registry not in self._policy.registries:
            return None
        names = self._metadata.hot.tag_names(registry, package)
        return sorted(set(names)) if names else None

    def manifest(self, registry: str, package: str, reference: str) -> Manifest:
        """The manifest a tag or digest names in the repository."""
        self.check(registry, package)
        with self._metadata.reader() as s:
            digest = self._resolve(s, registry, package, reference)
            manifest = s.manifests.get(digest) if digest is not None else None
            if manifest is None:
                _require_repository(s, registry, package)
                raise ManifestNotFound(f"manifest {reference} is not in {registry}/{package}", reference=reference)
            reg = self._policy.registry(registry)
            artifact = s.artifacts.by_digest(package, manifest.digest) if reg.require_signature_to_pull else None
            if artifact is not None:
                problems = signature_problems(reg, artifact, s.attachments.of(artifact.digest))
                if problems:
                    raise Denied(f"registry {registry} serves only signed artifacts: {problems[0].message}", problems)
            return manifest

    def _resolve(self, s: MetadataSession, registry: str, package: str, reference: str) -> Digest | None:
        if ":" in reference:
            digest = Digest.parse(reference)
            return digest if s.repositories.has_manifest(registry, package, digest) else None
        try:
            tag = Tag.parse(reference)
        except InvalidTag:  # no manifest can be tagged so: not found (404), as the spec's pulls expect
            return None
        if tag.kind is TagKind.VERSION:
            assert tag.version is not None
            artifact = s.artifacts.get(package, tag.version)
            if artifact is None or registry not in {p.registry for p in s.placements.of(artifact.id)}:
                return None
            return artifact.digest
        return s.repositories.tag(registry, package, reference)

    def blob(self, registry: str, package: str, digest: Digest) -> BlobLocation:
        self.check(registry, package)
        if not self._metadata.hot.has_blob(registry, package, str(digest)):
            raise BlobNotFound(f"blob {digest} is not in {registry}/{package}", digest=str(digest))
        return locate(self._blobs, digest)

    def tags(self, registry: str, package: str) -> list[str]:
        self.check(registry, package)
        with self._metadata.reader() as s:
            _require_repository(s, registry, package)
            versions = [a.version.tag for a in s.artifacts.find(package=package, registry=registry)]
            movable = [name for name, _ in s.repositories.tags(registry, package)]
        return sorted(set(versions) | set(movable))

    def catalog(self) -> list[str]:
        with self._metadata.reader() as s:
            return [f"{registry}/{package}" for registry, package in s.repositories.repositories()]

    def referrers(self, registry: str, package: str, subject: Digest, artifact_type: str | None) -> list[dict[str, Any]]:
        """Descriptors of the manifests in the repository whose subject is ``subject``."""
        self.check(registry, package)
        with self._metadata.reader() as s:
            found = s.repositories.referrers(registry, package, subject)
        out = []
        for m in found:
            kind = m.artifact_type or (m.config.media_type if m.config else None)
            if artifact_type is not None and kind != artifact_type:
                continue
            descriptor: dict[str, Any] = {"mediaType": m.media_type, "digest": str(m.digest), "size": len(m.raw)}
            if kind:
                descriptor["artifactType"] = kind
            if m.annotations:
                descriptor["annotations"] = m.annotations
            out.append(descriptor)
        return out

    # -- writing ----------------------------------------------------------------------------------

    def put_manifest(
        self,
        registry: str,
        package: str,
        reference: str,
        raw: bytes,
        content_type: str | None,
        *,
        actor: Actor,
        pipeline: Pipeline | None = None,
        extra_tags: tuple[str, ...] = (),
    ) -> PushedManifest:
        self.check(registry, package)
        validate_plain_package_name(package)  # native packages are published through their own view
        tags = [Tag.parse(name) for name in extra_tags]
        algorithm = "sha256"
        if ":" in reference:
            expected = Digest.parse(reference)
            if Digest.of(raw, expected.algorithm) != expected:
                raise InvalidDigest(f"the manifest's bytes do not hash to {expected}", digest=reference)
            algorithm = expected.algorithm
        else:
            tags.insert(0, Tag.parse(reference))
        manifest = parse_manifest(raw, content_type or None, algorithm)
        digest = manifest.digest
        held = self._held_blobs(manifest, actor)
        _refuse_mismatches(size_mismatches(manifest, held.get, lambda _: None))

        signatures = self._verifier.check(manifest, self._read_small)

        def unit_of_work() -> PushedManifest | str:
            with self._metadata.session() as s:
                pusher = actor.may(Right.PUSH, registry)
                direct = pusher and self._policy.registry(registry).direct_push
                if not direct and not self._is_attachment(s, registry, package, manifest, tags):
                    return "denied" if not pusher else "refused"
                pushed = self._record(s, registry, package, manifest, held, tags, actor, pipeline)
                self._record_signatures(s, registry, package, digest, signatures, actor, pipeline)
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
        for _, descriptor in manifest.blob_descriptors():
            blob = descriptor.digest
            try:
                if not may_reference(self._metadata, actor, blob):  # answered as if absent: no leak
                    raise BlobNotFound(str(blob))
                if not self._blobs.touch(blob):
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
        s.artifacts.ensure_package(package, OCI, now=now)
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

    def _record_signatures(
        self,
        s: MetadataSession,
        registry: str,
        package: str,
        carrier: Digest,
        checks: list[SignatureCheck],
        actor: Actor,
        pipeline: Pipeline | None,
    ) -> None:
        """Each signature verified on arrival becomes evidence bound to the digest it signs (once:
        cosign re-pushes the whole .sig manifest each time it appends a signature)."""
        now = self._clock()
        for check in checks:
            if check.subject is None:
                continue
            known = {
                a.details.get("fingerprint") for a in s.attachments.of(check.subject) if a.kind is AttachmentKind.SIGNATURE
            }
            if check.fingerprint in known:
                continue
            details: dict[str, object] = {"fingerprint": check.fingerprint, "carrier": str(carrier), "registry": registry}
            details.update(
                {
                    k: v
                    for k, v in (
                        ("key", check.key),
                        ("reason", check.reason),
                        ("predicate_type", check.predicate_type),
                        ("builder", check.builder),
                    )
                    if v
                }
            )
            s.attachments.add(
                subject=check.subject,
                kind=AttachmentKind.SIGNATURE,
                type=check.format,
                result=Result.PASS if check.ok else Result.FAIL,
                environment=None,
                actor=actor.name,
                now=now,
                details=details,
                pipeline=pipeline,
            )
            artifact = s.artifacts.by_digest(package, check.subject)
            where = artifact.ref if artifact else f"{registry}/{package}@{check.subject}"
            s.audit.append(
                EventDraft(
                    action=Action.SIGN,
                    actor=actor.name,
                    subject=where,
                    package=package,
                    digest=str(check.subject),
                    details={k: str(v) for k, v in details.items()} | {"verified": str(check.ok).lower()},
                    pipeline=pipeline.as_dict() if pipeline else None,
                ),
                now=now,
            )

    def _is_attachment(self, s: MetadataSession, registry: str, package: str, manifest: Manifest, tags: list[Tag]) -> bool:
        """Signatures, attestations and SBOMs of what a promotion-only registry already holds may be
        added to it: a referrer of a manifest there, tagged (if at all) with that manifest's attached tags."""
        subjects = {t.subject for t in tags}
        if manifest.subject is not None:
            subjects.add(manifest.subject.digest)
        if not subjects or any(t.kind is not TagKind.ATTACHED for t in tags) or None in subjects:
            return False
        return all(s.repositories.has_manifest(registry, package, d) for d in subjects if d is not None)

    def delete_manifest(
        self, registry: str, package: str, reference: str, *, actor: Actor, pipeline: Pipeline | None = None
    ) -> None:
        self.check(registry, package)
        reg = self._policy.registry(registry)
        if not reg.allow_delete:
            raise Denied(f"registry {registry} does not allow deletes", registry=registry)

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                now = self._clock()
                if ":" not in reference:
                    tag = Tag.parse(reference)
                    if tag.kind is TagKind.VERSION:
                        raise Denied(f"{reference} is a version: delete it by digest")
                    previous = s.repositories.delete_tag(registry, package, reference)
                    if previous is None:
                        raise ManifestNotFound(f"tag {reference} is not in {registry}/{package}")
                    s.audit.append(
                        self._event(Action.TAG_DELETE, registry, package, reference, previous, actor, pipeline), now=now
                    )
                    return
                digest = Digest.parse(reference)
                if not s.repositories.has_manifest(registry, package, digest):
                    raise ManifestNotFound(f"manifest {digest} is not in {registry}/{package}")
                self.check_deletable(s, registry, package, digest)
                artifact = s.artifacts.by_digest(package, digest)
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

    def mount_readable(self, registry: str, package: str, digest: Digest, actor: Actor) -> bool:
        """A mount without ``from`` (the spec's automatic content discovery): link a stored blob
        the actor may name anyway in a manifest (``may_reference``); False to start an upload."""
        self.check(registry, package)
        if not may_reference(self._metadata, actor, digest) or not self._blobs.touch(digest):
            return False
        self.link_blob(registry, package, digest)
        return True

    def link_blob(self, registry: str, package: str, digest: Digest) -> None:
        """An upload into the repository committed: the blob is now in it."""
        self.check(registry, package)

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                now = self._clock()
                s.artifacts.ensure_package(package, OCI, now=now)
                s.repositories.link_blob(registry, package, digest, now=now)

        retrying(unit_of_work)

    def mount(self, registry: str, package: str, digest: Digest, from_registry: str, from_package: str) -> bool:
        """Cross-repository mount: link a blob of the ``from`` repository (which the caller checked
        the client may read) without moving a byte; False when that repository does not hold it."""
        self.check(registry, package)
        if not self._metadata.hot.has_blob(from_registry, from_package, str(digest)) or not self._blobs.touch(digest):
            return False
        self.link_blob(registry, package, digest)
        return True

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


def _require_repository(s: MetadataSession, registry: str, package: str) -> None:
    """A repository is known once its package is (so one emptied by deletes still answers)."""
    if s.artifacts.package_format(package) is None:
        raise RepositoryNotFound(f"repository {registry}/{package} is unknown")
