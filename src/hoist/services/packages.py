"""Package views: the use cases every package protocol (npm, PyPI, Maven, plain HTTP) translates to.

A package format's version is an artifact version like any other (digest-addressed, ceiling-checked,
promoted by pointer, sealed where it is promoted): its files arrive one request at a time and join
the version's file set while it sits unsealed in the registry it was published to. A registry's view
of a package is what is placed there, so a prod view shows only what was promoted into prod.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from threading import Lock

from hoist.domain.access import Right
from hoist.domain.digests import Digest
from hoist.domain.errors import ArtifactNotFound, Denied, NotFound, VersionExists
from hoist.domain.events import Action, EventDraft
from hoist.domain.manifests import generic_manifest, parse_manifest
from hoist.domain.models import GENERIC, Actor, Artifact, FileEntry, MarkKind, Pipeline
from hoist.domain.names import clip, validate_file_name, validate_package_name
from hoist.domain.packages import split_key, version_of
from hoist.domain.policy import Policy, signature_problems
from hoist.domain.ports import ListedVersion, MetadataSession, MetadataStore
from hoist.domain.versions import Version
from hoist.services.base import Clock, artifact_event, retrying, utcnow
from hoist.services.guard import Guard
from hoist.services.publishing import Outcome, PublishResult, PublishService

MAX_MARK_MESSAGE = 1024


class FileNotFound(NotFound):
    code = "FILE_UNKNOWN"


@dataclass(frozen=True, slots=True)
class PackageView:
    """A package as one registry shows it: the versions placed there (in version order) and the
    movable tags (npm dist-tags) pointing at their digests."""

    registry: str
    package: str
    versions: Sequence[ListedVersion]
    tags: Mapping[str, Digest]
    generation: int = 0  # changes with anything a view shows: rooms key their rendered pages by it

    def by_digest(self, digest: Digest) -> ListedVersion | None:
        return next((v for v in self.versions if v.artifact.digest == digest), None)


@dataclass(frozen=True, slots=True)
class OpenedFile:
    artifact: Artifact
    file: FileEntry
    sealed: bool


def format_of(package: str) -> str:
    """The format a package key belongs to (``npm/…`` → npm); plain names are generic."""
    fmt = split_key(package)[0]
    return str(fmt) if fmt is not None else GENERIC


class PackageService:
    def __init__(
        self,
        metadata: MetadataStore,
        policy: Policy,
        publisher: PublishService,
        guard: Guard,
        clock: Clock = utcnow,
    ) -> None:
        self._metadata = metadata
        self._policy = policy
        self._publisher = publisher
        self._guard = guard
        self._clock = clock
        self._views = _ViewCache()

    # --- publishing ------------------------------------------------------------------------------

    def check_publish(
        self, *, registry: str, package: str, version: str | Version, actor: Actor, pipeline: Pipeline | None = None
    ) -> Version:
        """Refuse (audited) a publish that no bytes could make acceptable: a registry that takes
        promotions only, an actor without ``push`` there, a bad name or version. A room calls it
        before it reads a file's body, so a refused upload costs the server nothing."""
        validate_package_name(package)
        parsed = version if isinstance(version, Version) else version_of(package, version)
        self.check_push(registry, package, actor, pipeline, subject=f"{package}@{parsed}")
        return parsed

    def add_files(
        self,
        *,
        registry: str,
        package: str,
        version: str | Version,
        files: Sequence[FileEntry],
        actor: Actor,
        pipeline: Pipeline | None = None,
        replace: bool = False,
    ) -> PublishResult:
        """``files`` join the version's files (a new version if there is none). A file already there
        with the same bytes is a no-op; with other bytes it is refused, unless ``replace`` and the
        version is a snapshot the registry lets change (the core's overwrite rule)."""
        parsed = self.check_publish(registry=registry, package=package, version=version, actor=actor, pipeline=pipeline)
        fmt = format_of(package)
        subject = f"{package}@{parsed}"
        for f in files:
            validate_file_name(f.name)
        self._publisher.check_files(list(files), actor)
        self._publisher.ensure_empty_config()
        ceiling = self._policy.ceiling_for(parsed.channel, None)

        def unit_of_work() -> tuple[PublishResult, list[FileEntry]]:
            with self._metadata.session() as s:
                existing = s.artifacts.get(package, parsed)
                stored = s.manifests.get(existing.digest) if existing else None
                current = list(stored.files()) if stored else []
                merged, added, replaced = _merge(current, files)
                if replaced and not replace:
                    names = ", ".join(replaced)
                    raise VersionExists(
                        f"{subject} already has {names} with other bytes: "
                        f"{parsed.channel} files never change; publish a new version",
                        version=str(parsed),
                        existing_digest=str(existing.digest) if existing else None,
                    )
                manifest = parse_manifest(generic_manifest(package, parsed, merged))
                result = self._publisher.record_version(
                    s,
                    registry,
                    package,
                    parsed,
                    manifest,
                    ceiling=ceiling,
                    actor=actor,
                    pipeline=pipeline,
                    format=fmt,
                    added=added if existing is not None and not replaced else (),
                )
                return result, merged

        result, merged = retrying(unit_of_work)
        hook = self._publisher.on_manifest
        if hook is not None and result.outcome in {Outcome.CREATED, Outcome.OVERWRITTEN}:
            hook(registry, package, parse_manifest(generic_manifest(package, result.artifact.version, merged)))
        return result

    def check_push(
        self, registry: str, package: str, actor: Actor, pipeline: Pipeline | None = None, *, subject: str | None = None
    ) -> None:
        """Refuse (audited) what ``add_files`` would refuse whatever the files: a registry that takes
        promotions only, an actor without ``push`` there. Protocols call it before reading a body, so
        a refused upload costs no transfer (Maven waits on ``Expect: 100-continue``)."""
        validate_package_name(package)
        subject = subject or package
        if not self._policy.registry(registry).direct_push:
            self._publisher.refuse_direct_push(registry, subject, package, actor, pipeline)
        self._guard.require(actor, Right.PUSH, registry, asked=f"push {subject} into {registry}", subject=subject)

    def check_write(self, registry: str, package: str, actor: Actor) -> None:
        """Refuse (audited) before a body is read what no write of ``package`` in ``registry``
        could pass: an actor without the right every change there takes (push; promote in a
        registry that takes promotions only). For protocols whose one verb carries a publish or a
        change of marks (npm's PUT of a package document). A publish by someone who may promote is
        still refused later by ``add_files``, saying to promote."""
        validate_package_name(package)
        asked = f"publish or change {package} in {registry}"
        if not self._policy.registry(registry).direct_push:
            asked += " (it takes promotions only: publish to a registry that takes pushes, then promote)"
        self._guard.require(actor, self._writer_right(registry), registry, asked=asked, subject=package)

    # --- reading ---------------------------------------------------------------------------------

    def view(self, registry: str, package: str, actor: Actor) -> PackageView | None:
        """What ``registry`` holds of ``package``; None when it holds no version of it."""
        self._policy.registry(registry)
        self._require_read(actor, registry, package)
        return self._current(registry, package)

    def _current(self, registry: str, package: str) -> PackageView | None:
        # unchanged since this process last read it: one indexed statement, no unit of work
        known = self._metadata.hot.package_generation(package)
        if known is None:
            return None
        cached = self._views.get((registry, package), known)
        if cached is not None:
            return cached.view
        with self._metadata.reader() as s:
            # the generation first: what is read after it is at least as new, so a page cached
            # under it is never older than it says (a later change bumps it again)
            generation = s.listings.generation(package)
            if generation is None:
                return None
            cached = self._views.get((registry, package), generation)
            if cached is not None:
                return cached.view
            versions = s.listings.versions(registry, package)
            tags = dict(s.repositories.tags(registry, package)) if versions else {}
        view = PackageView(registry, package, versions, tags, generation) if versions else None
        self._views.put((registry, package), generation, _Cached(view))
        return view

    def packages(self, registry: str, fmt: str, actor: Actor) -> list[str]:
        """The packages of a format with a version in ``registry``, by key."""
        self._policy.registry(registry)
        self._require_read(actor, registry, f"the {fmt} packages of {registry}")
        with self._metadata.reader() as s:
            return list(s.listings.packages(registry, fmt))

    def open_file(
        self, registry: str, package: str, version: str | Version, name: str, actor: Actor, *, download: bool = True
    ) -> OpenedFile:
        """A file of a version placed in ``registry``, for a download. Reading a sealed version's
        bytes is audited: what reached production, and who took it. ``download=False`` (a HEAD: no
        byte leaves) makes the same checks and audits nothing."""
        self._policy.registry(registry)
        parsed = version if isinstance(version, Version) else version_of(package, version)
        subject = f"{package}@{parsed}"
        self._require_read(actor, registry, subject)
        reg = self._policy.registry(registry)
        view = self._current(registry, package)  # what a package page showed: no further read while unchanged
        listed = next((v for v in view.versions if v.artifact.version.canonical == parsed.canonical), None) if view else None
        if listed is None:
            raise ArtifactNotFound(f"{package}@{parsed} is not in {registry}", registry=registry)
        artifact, sealed = listed.artifact, listed.placement.sealed
        if reg.require_signature_to_pull:
            with self._metadata.reader() as s:
                problems = signature_problems(reg, artifact, s.attachments.of(artifact.digest))
            if problems:
                raise Denied(f"registry {registry} serves only signed artifacts: {problems[0].message}", problems)
        found = next((f for f in listed.manifest.files() if f.name == name), None)
        if found is None:
            raise FileNotFound(f"{subject} in {registry} has no file {clip(name)!r}", name=clip(name))
        if sealed and download:
            self._metadata.append_alone(
                artifact_event(Action.DOWNLOAD, artifact, actor, None, registry=registry, file=name, source=actor.source),
                now=self._clock(),
            )
        return OpenedFile(artifact, found, sealed)

    # --- what a registry says of a version -------------------------------------------------------

    def mark(
        self, registry: str, package: str, version: str | Version, kind: MarkKind, message: str | None, actor: Actor
    ) -> bool:
        """Set (``message``) or clear (None) a mark on a version ``registry`` holds; whether it changed.
        Publishers mark in the registries they push to; in a promotion-only registry it takes the
        right to promote there."""
        parsed = version if isinstance(version, Version) else version_of(package, version)
        subject = f"{package}@{parsed}"
        right = self._writer_right(registry)
        verb = "clear" if message is None else "set"
        self._guard.require(actor, right, registry, asked=f"{verb} {kind} on {subject} in {registry}", subject=subject)
        if message is not None and len(message) > MAX_MARK_MESSAGE:
            message = message[:MAX_MARK_MESSAGE]

        def unit_of_work() -> bool:
            with self._metadata.session() as s:
                artifact, _ = _placed(s, registry, package, parsed)
                now = self._clock()
                if message is None:
                    if not s.listings.unmark(artifact.id, registry, kind):
                        return False
                    s.audit.append(
                        artifact_event(Action.UNMARK, artifact, actor, None, registry=registry, kind=str(kind)), now=now
                    )
                    return True
                s.listings.mark(artifact.id, registry, kind, message, actor=actor.name, now=now)
                s.audit.append(
                    artifact_event(Action.MARK, artifact, actor, None, registry=registry, kind=str(kind), message=message),
                    now=now,
                )
                return True

        return retrying(unit_of_work)

    def set_tag(self, registry: str, package: str, tag: str, version: str | Version, actor: Actor) -> Digest | None:
        """Point a movable tag of the package (an npm dist-tag) at a version ``registry`` holds;
        where it pointed before."""
        parsed = version if isinstance(version, Version) else version_of(package, version)
        right = self._writer_right(registry)
        self._guard.require(actor, right, registry, asked=f"tag {package}@{parsed} {tag!r} in {registry}", subject=package)

        def unit_of_work() -> Digest | None:
            with self._metadata.session() as s:
                artifact, _ = _placed(s, registry, package, parsed)
                now = self._clock()
                before = s.repositories.set_tag(registry, package, tag, artifact.digest, actor=actor.name, now=now)
                if before != artifact.digest:
                    s.audit.append(
                        artifact_event(Action.TAG_MOVE, artifact, actor, None, registry=registry, tag=tag), now=now
                    )
                return before

        return retrying(unit_of_work)

    def remove_tag(self, registry: str, package: str, tag: str, actor: Actor) -> bool:
        right = self._writer_right(registry)
        self._guard.require(actor, right, registry, asked=f"remove tag {tag!r} of {package} in {registry}", subject=package)

        def unit_of_work() -> bool:
            with self._metadata.session() as s:
                before = s.repositories.delete_tag(registry, package, tag)
                if before is None:
                    return False
                s.audit.append(
                    EventDraft(
                        action=Action.TAG_DELETE,
                        actor=actor.name,
                        subject=f"{package}:{tag}",
                        package=package,
                        digest=str(before),
                        details={"registry": registry, "tag": tag},
                    ),
                    now=self._clock(),
                )
                return True

        return retrying(unit_of_work)

    # --- helpers ---------------------------------------------------------------------------------

    def _writer_right(self, registry: str) -> Right:
        return Right.PUSH if self._policy.registry(registry).direct_push else Right.PROMOTE

    def _require_read(self, actor: Actor, registry: str, subject: str) -> None:
        self._guard.require(actor, Right.READ, registry, asked=f"read {subject} in {registry}", subject=subject)


@dataclass(frozen=True, slots=True)
class _Cached:
    view: PackageView | None


class _ViewCache:
    """The latest view of each (registry, package) this process read, with its generation: a
    repeated read costs one indexed lookup while nothing changed."""

    def __init__(self, limit: int = 4096) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[int, _Cached]] = OrderedDict()
        self._limit = limit
        self._lock = Lock()

    def get(self, key: tuple[str, str], generation: int) -> _Cached | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] != generation:
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: tuple[str, str], generation: int, value: _Cached) -> None:
        with self._lock:
            self._items[key] = (generation, value)
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)


def _placed(s: MetadataSession, registry: str, package: str, version: Version) -> tuple[Artifact, bool]:
    artifact = s.artifacts.get(package, version)
    placement = next((p for p in s.placements.of(artifact.id) if p.registry == registry), None) if artifact else None
    if artifact is None or placement is None:
        raise ArtifactNotFound(f"{package}@{version} is not in {registry}", registry=registry)
    return artifact, placement.sealed


def _merge(current: Sequence[FileEntry], arriving: Sequence[FileEntry]) -> tuple[list[FileEntry], list[str], list[str]]:
    """The version's files with ``arriving`` joined: (files, names added, names whose bytes differ).
    A file arriving again with the same bytes keeps the recorded entry (and its checksums)."""
    files = {f.name: f for f in current}
    added: list[str] = []
    replaced: list[str] = []
    for f in arriving:
        old = files.get(f.name)
        if old is None:
            added.append(f.name)
            files[f.name] = f
        elif old.digest != f.digest:
            replaced.append(f.name)
            files[f.name] = f
    return sorted(files.values(), key=lambda f: f.name), added, replaced
