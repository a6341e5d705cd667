"""The two store contracts. Every implementation passes the same contract suite (tests/contract).

Blob store: immutable bytes by digest, nothing else. Metadata store: everything else, in units of
work that commit or roll back as a whole, with the audit event written inside the same unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from hoist.domain.digests import Digest
from hoist.domain.events import AuditEvent, ChainMark, EventDraft
from hoist.domain.inventory import AdvisoryRepository, SbomRepository
from hoist.domain.jobs import JobArgs
from hoist.domain.manifests import Manifest
from hoist.domain.models import (
    Actor,
    Artifact,
    Attachment,
    AttachmentKind,
    Deployment,
    DeploymentKind,
    DeploymentStatus,
    Hold,
    MarkKind,
    Pipeline,
    Placement,
    PlacementVia,
    Result,
)
from hoist.domain.principals import PrincipalRepository
from hoist.domain.retention import TrashRepository
from hoist.domain.versions import Version


@dataclass(frozen=True, slots=True)
class BlobInfo:
    digest: Digest
    size: int
    stored_at: datetime | None = None  # when the blob was committed (garbage collection's grace period)


@dataclass(frozen=True, slots=True)
class UploadState:
    upload_id: str
    size: int
    started_at: datetime
    updated_at: datetime  # when bytes last arrived (or it started): how long it has been idle


class BlobWriter(Protocol):
    """An upload in progress. Bytes written here are invisible until ``commit`` verifies them."""

    upload_id: str
    size: int

    def write(self, chunk: bytes) -> None: ...

    def commit(self, expected: Digest) -> BlobInfo:
        """Verify the bytes hash to ``expected`` and publish them atomically under that digest.
        Raises DigestMismatch (the upload is then discarded) or, if the upload is gone, UploadNotFound."""
        ...

    def close(self) -> None:
        """Stop writing for now; the upload stays resumable under ``upload_id``."""
        ...

    def cancel(self) -> None:
        """Discard the upload and everything written to it."""
        ...


class BlobStore(Protocol):
    def stat(self, digest: Digest) -> BlobInfo:
        """Size of a committed blob; BlobNotFound if absent."""
        ...

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        """Read a committed blob from ``offset``; BlobNotFound if absent. A read from offset 0 is
        checked: when its end is reached and the bytes do not hash to ``digest``, the blob is marked
        corrupt (``mark_corrupt``) and the read raises ``BlobCorrupt`` instead of returning its end."""
        ...

    def path(self, digest: Digest) -> Path | None:
        """A local file holding the blob, for zero-copy serving, or None if the store has none."""
        ...

    def download_url(self, digest: Digest, *, expires_in: int) -> str | None:
        """A presigned URL clients may fetch the blob from directly, or None."""
        ...

    def writer(self, upload_id: str | None = None) -> BlobWriter:
        """A new upload, or the upload ``upload_id`` reopened to append (UploadNotFound if unknown)."""
        ...

    def upload_state(self, upload_id: str) -> UploadState:
        """How far an upload has got; UploadNotFound if unknown."""
        ...

    def uploads(self) -> Iterator[UploadState]:
        """Every upload in progress (garbage collection treats them as live)."""
        ...

    def expire_uploads(self, *, idle_since: datetime) -> list[UploadState]:
        """Discard every upload nothing was written to since ``idle_since`` and that no writer holds
        now (abandoned by a crash: a one-shot upload whose client never learnt its id, a chunked
        upload never finished, a half-made one), and say which (with their size). A writer that
        comes later finds the upload unknown (UploadNotFound)."""
        ...

    def delete(self, digest: Digest) -> None:
        """Remove a blob (garbage collection only); a missing blob is not an error."""
        ...

    def touch(self, digest: Digest) -> bool:
        """Mark the blob as just used (its ``stored_at`` becomes now), so that a garbage collection
        running meanwhile keeps it; False when it is not stored. Every path that makes a stored
        blob newly needed (a manifest or artifact naming it, a mount, an upload of the same bytes)
        touches it before it commits."""
        ...

    def mark_corrupt(self, digest: Digest) -> None:
        """The blob's bytes were found wrong (fsck, a checked whole read): from now on ``open``,
        ``stat`` and ``path`` raise ``BlobCorrupt`` for it (never served as if it were good), until
        it is stored again whole. A marked blob whose bytes are gone is reported missing."""
        ...

    def quarantine(self, digest: Digest) -> bool:
        """Move a corrupt blob out of the store (kept aside for inspection); False if not stored."""
        ...

    def collect(self, digest: Digest, *, older_than: datetime) -> int | None:
        """Garbage collection's delete: take the blob out of reach first, then remove it only if it
        was not touched since ``older_than`` (else put it back). The bytes freed, or None: kept."""
        ...

    def digests(self) -> Iterator[Digest]:
        """Every committed blob, for garbage collection and fsck."""
        ...


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """A signature found in a manifest: what it signs, and which known key (if any) verifies it."""

    subject: Digest | None
    format: str
    key: str | None
    fingerprint: str
    reason: str | None = None
    predicate_type: str | None = None
    builder: str | None = None  # the builder a signed SLSA provenance statement names

    @property
    def ok(self) -> bool:
        return self.key is not None


class SignatureVerifier(Protocol):
    def check(self, manifest: Manifest, read: Callable[[Digest], bytes]) -> list[SignatureCheck]:
        """Every signature ``manifest`` carries (cosign simple signing, Sigstore bundles), each verified
        against the configured keys; ``read`` gives a blob's bytes. [] for a manifest with none."""
        ...


@dataclass(frozen=True, slots=True)
class OpenedStatement:
    """A DSSE envelope a client signed: which configured key verifies it (None: none) and its statement."""

    key: str | None
    subjects: tuple[str, ...]
    predicate_type: str | None
    predicate: dict[str, object]
    problem: str | None = None


class StatementVerifier(Protocol):
    def open(self, envelope: bytes) -> OpenedStatement:
        """Verify a DSSE envelope carrying an in-toto statement against the configured keys."""
        ...


class Signer(Protocol):
    """The server's own key: what it signs (verification summaries), anyone can verify offline."""

    @property
    def key_id(self) -> str: ...

    @property
    def public_pem(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


class Authenticator(Protocol):
    def authenticate(self, username: str, secret: str, source: str | None) -> Actor:
        """The actor a username and a password or token prove; raises ``Unauthenticated`` (audited)
        when they prove nothing, ``TooManyAttempts`` while that name is throttled."""
        ...

    def authenticate_token(self, token: str, source: str | None) -> Actor:
        """The actor an API token proves; raises ``Unauthenticated`` (audited) otherwise."""
        ...

    def anonymous(self, source: str | None) -> Actor:
        """Who asks without credentials: may read the registries that allow anonymous reads."""
        ...

    def recent(self, username: str | None, secret: str, source: str | None) -> Actor | None:
        """The actor of an API token (``username`` None: sent as a Bearer) this process proved a
        moment ago, without blocking; None when it must be proved again (call ``authenticate``)."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether the password matches; with no hash, spends the same time and answers False
        (so that unknown names cannot be told apart by timing)."""
        ...


# -- metadata ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManifestGraph:
    """Every stored manifest and its edges, read at once for garbage collection's mark."""

    manifests: frozenset[Digest]
    references: Mapping[Digest, frozenset[Digest]]  # blobs it needs and manifests an index lists
    referrers: Mapping[Digest, frozenset[Digest]]  # manifests whose subject it is


class ManifestRepository(Protocol):
    def add(self, manifest: Manifest, *, now: datetime) -> None:
        """Store a manifest and the blobs it references; a no-op if the digest is already stored."""
        ...

    def get(self, digest: Digest) -> Manifest | None: ...

    def size(self, digest: Digest) -> int | None:
        """The length of the stored manifest's bytes, None when it is not stored."""
        ...

    def roots(self) -> set[Digest]:
        """Manifests something names: a repository, an artifact version placed in a registry or
        waiting in the trash. Garbage collection keeps these and everything they lead to; a version
        in no registry and purged from the trash is gone (retention never takes what an environment
        runs or its rollback window needs)."""
        ...

    def referrers(self, subject: Digest) -> Sequence[Digest]:
        """Every stored manifest whose subject is ``subject``, in any repository."""
        ...

    def graph(self) -> ManifestGraph:
        """Every manifest with its references and referrers, in a few statements (not one per
        manifest), for garbage collection."""
        ...


class ArtifactRepository(Protocol):
    def get(self, package: str, version: Version) -> Artifact | None: ...

    def get_by_id(self, artifact_id: int) -> Artifact: ...

    def by_digest(self, package: str, digest: Digest) -> Artifact | None: ...

    def add(
        self,
        *,
        package: str,
        format: str,
        version: Version,
        manifest: Manifest,
        ceiling: str,
        pushed_by: str,
        pushed_at: datetime,
        pipeline: Pipeline | None,
    ) -> Artifact:
        """Create the package if needed and the artifact. ConcurrentUpdate if the version appeared meanwhile."""
        ...

    def replace_content(self, artifact_id: int, manifest: Manifest, *, pushed_by: str, pushed_at: datetime) -> Artifact:
        """Point an (unsealed snapshot) artifact at new content."""
        ...

    def find(self, *, package: str | None = None, registry: str | None = None) -> Sequence[Artifact]:
        """Artifacts ordered by package name, then version order."""
        ...

    def package_format(self, package: str) -> str | None: ...

    def ensure_package(self, package: str, format: str, *, now: datetime) -> None: ...

    def next_build(self, package: str, base: Version) -> int:
        """Allocate the next build number of ``base`` atomically; numbers are never handed out twice
        by committed transactions, and never lower than an existing build of that version."""
        ...


class RepositoryRepository(Protocol):
    """What each repository ``<registry>/<package>`` holds: manifests, blob links, movable tags."""

    def add_manifest(self, registry: str, package: str, digest: Digest, *, now: datetime) -> bool:
        """Make the (stored) manifest pullable in the repository; False if it already was."""
        ...

    def has_manifest(self, registry: str, package: str, digest: Digest) -> bool: ...

    def remove_manifest(self, registry: str, package: str, digest: Digest) -> bool: ...

    def link_blob(self, registry: str, package: str, digest: Digest, *, now: datetime) -> None: ...

    def unlink_blob(self, registry: str, package: str, digest: Digest) -> bool: ...

    def tag(self, registry: str, package: str, name: str) -> Digest | None: ...

    def set_tag(self, registry: str, package: str, name: str, digest: Digest, *, actor: str, now: datetime) -> Digest | None:
        """Point the tag at ``digest``; returns where it pointed before (None for a new tag)."""
        ...

    def delete_tag(self, registry: str, package: str, name: str) -> Digest | None: ...

    def tags(self, registry: str, package: str) -> Sequence[tuple[str, Digest]]: ...

    def referrers(self, registry: str, package: str, subject: Digest) -> Sequence[Manifest]:
        """Manifests in the repository whose ``subject`` is ``subject``."""
        ...

    def repositories(self) -> Sequence[tuple[str, str]]:
        """Every (registry, package) holding at least one manifest, in name order."""
        ...

    def linked_blobs(self) -> set[Digest]:
        """Every blob linked to some repository by an upload or a mount."""
        ...


class PlacementRepository(Protocol):
    def add(
        self, artifact_id: int, registry: str, *, sealed: bool, via: PlacementVia, actor: str, now: datetime
    ) -> Placement:
        """ConcurrentUpdate if the artifact is already placed there (a race lost)."""
        ...

    def of(self, artifact_id: int) -> Sequence[Placement]: ...

    def every(self) -> Sequence[Placement]:
        """Every placement, in one read (the web UI's board: no query per artifact)."""
        ...

    def remove(self, artifact_id: int, registry: str) -> bool: ...


class AttachmentRepository(Protocol):
    def add(
        self,
        *,
        subject: Digest,
        kind: AttachmentKind,
        type: str,
        result: Result | None,
        environment: str | None,
        actor: str,
        now: datetime,
        details: dict[str, object],
        pipeline: Pipeline | None,
    ) -> Attachment: ...

    def of(self, subject: Digest) -> Sequence[Attachment]: ...


class DeploymentRepository(Protocol):
    def add(
        self,
        artifact: Artifact,
        environment: str,
        *,
        status: DeploymentStatus,
        kind: DeploymentKind,
        actor: str,
        now: datetime,
        pipeline: Pipeline | None,
        reason: str | None,
    ) -> Deployment: ...

    def get(self, deployment_id: int) -> Deployment: ...

    def finish(
        self, deployment_id: int, status: DeploymentStatus, *, now: datetime, exit_code: int | None
    ) -> Deployment: ...

    def history(self, *, environment: str | None = None, package: str | None = None) -> Sequence[Deployment]:
        """Deployments, newest first."""
        ...

    def succeeded_environments(self, artifact_id: int) -> frozenset[str]: ...


class HoldRepository(Protocol):
    def add(self, artifact_id: int, environment: str, *, reason: str, actor: str, now: datetime) -> Hold: ...

    def release(self, artifact_id: int, environment: str) -> bool:
        """Lift the hold; False if there was none."""
        ...

    def of(self, artifact_id: int) -> Sequence[Hold]: ...


class AuditLog(Protocol):
    def append(self, draft: EventDraft, *, now: datetime) -> AuditEvent:
        """Chain and store an event in the current unit of work (serialised with other appends)."""
        ...

    def events(
        self,
        *,
        after: int = 0,
        limit: int | None = None,
        package: str | None = None,
        subject: str | None = None,
    ) -> Sequence[AuditEvent]: ...

    def head(self) -> ChainMark:
        """The head the last append recorded (seq 0 and the genesis hash before the first)."""
        ...

    def record_checkpoint(self, seq: int, hash: str, *, now: datetime) -> None:
        """Remember a head the server signed; a no-op if that event was already recorded."""
        ...

    def latest_checkpoint(self) -> ChainMark | None:
        """The signed head with the highest seq, None before the first checkpoint."""
        ...


@dataclass(frozen=True, slots=True)
class ListedVersion:
    """A version as a registry's package view shows it: where it is placed, its manifest (the
    files) and the marks that registry set on it."""

    artifact: Artifact
    placement: Placement
    manifest: Manifest
    marks: Mapping[MarkKind, str]


class ListingRepository(Protocol):
    """What the package views (npm, PyPI, Maven, plain HTTP) read: a few statements per page."""

    def versions(self, registry: str, package: str) -> Sequence[ListedVersion]:
        """Every version of ``package`` placed in ``registry``, in version order."""
        ...

    def packages(self, registry: str, format: str) -> Sequence[str]:
        """The packages of ``format`` with at least one version placed in ``registry``, by name."""
        ...

    def mark(self, artifact_id: int, registry: str, kind: MarkKind, message: str, *, actor: str, now: datetime) -> None:
        """Set (or replace) the mark."""
        ...

    def unmark(self, artifact_id: int, registry: str, kind: MarkKind) -> bool:
        """Clear the mark; False if there was none."""
        ...

    def generation(self, package: str) -> int | None:
        """A number that changes with every change to what any registry shows of the package
        (placements, content, tags, marks), committed with it; None for an unknown package."""
        ...


class JobQueue(Protocol):
    """The outbox: jobs queued here commit or roll back with the unit of work (``domain/jobs.py``)."""

    def enqueue(self, name: str, args: JobArgs, *, key: str | None = None) -> None:
        """Queue ``name(args)``; jobs sharing a ``key`` never run at the same time."""
        ...

    def pending(self, name: str, key: str) -> bool:
        """A job ``name`` with ``key`` is queued or running."""
        ...

    def pending_args(self, name: str) -> list[JobArgs]:
        """The arguments of every job ``name`` queued or running."""
        ...


class MetadataSession(Protocol):
    @property
    def manifests(self) -> ManifestRepository: ...
    @property
    def artifacts(self) -> ArtifactRepository: ...
    @property
    def placements(self) -> PlacementRepository: ...
    @property
    def repositories(self) -> RepositoryRepository: ...
    @property
    def attachments(self) -> AttachmentRepository: ...
    @property
    def deployments(self) -> DeploymentRepository: ...
    @property
    def holds(self) -> HoldRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def sboms(self) -> SbomRepository: ...
    @property
    def advisories(self) -> AdvisoryRepository: ...
    @property
    def principals(self) -> PrincipalRepository: ...
    @property
    def trash(self) -> TrashRepository: ...
    @property
    def listings(self) -> ListingRepository: ...
    @property
    def jobs(self) -> JobQueue: ...


class HotReads(Protocol):
    """The few lookups pulls make most (a manifest by version, tag or digest; what names the
    manifests of a repository), answered without the unit-of-work machinery: single statements,
    safe to call from any thread. Values come as stored; each protocol spells them its own way."""

    @property
    def local(self) -> bool:
        """True when a lookup never waits on a network (an embedded database): callers may then run
        it inline on an event loop instead of paying for a thread hop."""
        ...

    def version_digest(self, registry: str, package: str, version_key: str) -> str | None:
        """The manifest digest of the version (``Version.canonical``) placed in the registry."""
        ...

    def tag_digest(self, registry: str, package: str, tag: str) -> str | None:
        """Where the repository's movable tag points."""
        ...

    def has_manifest(self, registry: str, package: str, digest: str) -> bool: ...

    def has_blob(self, registry: str, package: str, digest: str) -> bool:
        """Linked to the repository, or needed by a manifest in it."""
        ...

    def blob_registries(self, digest: str) -> set[str]:
        """The registries holding the blob: linked to one of their repositories, or needed by a
        manifest in one of them or by an artifact placed there."""
        ...

    def manifest(self, digest: str) -> tuple[bytes, str] | None:
        """(content, media type) of a stored manifest."""
        ...

    def names(self, registry: str, package: str) -> tuple[list[str], list[str]]:
        """(the versions of the package's artifacts placed in the registry, as stored; the
        repository's movable tags), each unsorted."""
        ...

    def package_generation(self, package: str) -> int | None:
        """The package's generation (``PackageView.generation``: it changes with anything a
        package view shows), None when there is no such package."""
        ...


class MetadataStore(Protocol):
    @property
    def hot(self) -> HotReads: ...

    def session(self) -> AbstractContextManager[MetadataSession]:
        """A unit of work: commits when the block ends, rolls back if it raises.
        Races lost to another transaction surface as ConcurrentUpdate."""
        ...

    def reader(self) -> AbstractContextManager[MetadataSession]:
        """A read-only unit of work."""
        ...

    def append_alone(self, draft: EventDraft, *, now: datetime) -> AuditEvent:
        """One event appended in a transaction of its own (a download): the same chain as
        ``session().audit.append``, without a unit of work around it. Not inside a session."""
        ...
