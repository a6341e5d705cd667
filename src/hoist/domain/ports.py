"""The two store contracts. Every implementation passes the same contract suite (tests/contract).

Blob store: immutable bytes by digest and uploads of bytes, nothing else (no times, marks or
renames: an object store has none). Metadata store: everything else, what the bytes mean included
(blob liveness, corrupt marks, upload offsets and hash states), in units of work that commit or roll
back as a whole, with the audit event written inside the same unit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from hoist.domain.digests import Digest
from hoist.domain.events import AuditEvent, ChainMark, EventDraft, EventFilter
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


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """An upload the blob store holds bytes for, as its listing shows it (garbage collection finds
    uploads whose bookkeeping is gone this way: a crash between creating one and recording it)."""

    key: str
    started_at: datetime


class UploadWriter(Protocol):
    """Appends to one upload; one writer per upload at a time."""

    key: str
    size: int  # bytes the upload holds

    def write(self, chunk: bytes) -> None: ...

    def close(self) -> None:
        """Make what was written durable and let the upload go (it stays resumable)."""
        ...


class BlobStore(Protocol):
    """Bytes by digest, and uploads of bytes on their way to a digest: nothing else (no times, no
    marks, no renames). What the bytes mean (when a blob was last needed, whether it is corrupt,
    how far an upload has got and its running hash) lives in the metadata store, kept by the
    services (``services/blobs``, ``services/uploads``). The shape of Go distribution's storage
    driver, so that a filesystem, memory and object store pass one contract suite."""

    def stat(self, digest: Digest) -> BlobInfo:
        """Size of a committed blob; BlobNotFound if absent."""
        ...

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        """The blob's bytes from ``offset``, as stored (unchecked); BlobNotFound if absent."""
        ...

    def path(self, digest: Digest) -> Path | None:
        """A local file holding the blob, for zero-copy serving, or None if the store has none."""
        ...

    def download_url(self, digest: Digest, *, expires_in: int) -> str | None:
        """A presigned URL clients may fetch the blob from directly, or None."""
        ...

    def delete(self, digest: Digest) -> None:
        """Remove a blob; a missing blob is not an error."""
        ...

    def set_aside(self, digest: Digest) -> str | None:
        """Move a blob's bytes out of the store to a place kept for inspection (never served, never
        listed by ``digests``) and say where; None if it is not stored."""
        ...

    def digests(self) -> Iterator[Digest]:
        """Every committed blob, for garbage collection and fsck."""
        ...

    def create_upload(self) -> str:
        """A new, empty upload; its key."""
        ...

    def append(self, key: str, offset: int) -> UploadWriter:
        """Write to the upload from ``offset`` on: what the caller recorded as held. Bytes past it
        (written by a writer that died before its caller recorded them) are dropped. UploadNotFound
        if the upload is unknown or holds fewer than ``offset`` bytes; ConcurrentUpdate while
        another writer holds it."""
        ...

    def read_upload(self, key: str) -> BinaryIO:
        """The bytes an upload holds, from its first (to hash them with another algorithm than the
        running hash's); UploadNotFound."""
        ...

    def commit_upload(self, key: str, digest: Digest) -> BlobInfo:
        """Publish the upload's bytes under ``digest`` (the caller verified they hash to it),
        replacing any bytes stored there, and end the upload. Atomic: a reader sees the old bytes
        or the new, never a part. UploadNotFound."""
        ...

    def abort_upload(self, key: str) -> int:
        """Discard an upload and everything written to it; the bytes freed (0 if it is unknown)."""
        ...

    def uploads(self) -> Iterator[StoredUpload]:
        """Every upload the store holds."""
        ...


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """An upload's bookkeeping: where its bytes are, how many, the running SHA-256 over them."""

    upload_id: str
    key: str  # the blob store's
    size: int
    hash_state: bytes | None  # the running sha256's serialised state after ``size`` bytes
    started_at: datetime
    updated_at: datetime  # when bytes last arrived (or it started): how long it has been idle


class UploadRepository(Protocol):
    def add(self, record: UploadRecord) -> None: ...

    def get(self, upload_id: str) -> UploadRecord | None: ...

    def advance(self, upload_id: str, *, was: int, size: int, hash_state: bytes | None, now: datetime) -> bool:
        """Record bytes appended, if the upload still holds ``was`` bytes as recorded (else another
        writer got there first, or it ended): whether it did."""
        ...

    def remove(self, upload_id: str) -> bool: ...

    def every(self) -> Sequence[UploadRecord]: ...

    def idle(self, since: datetime) -> Sequence[UploadRecord]:
        """Uploads nothing was written to since ``since``."""
        ...


@dataclass(frozen=True, slots=True)
class BlobState:
    digest: Digest
    touched_at: datetime  # committed, or last newly needed: garbage collection's grace runs from here
    corrupt_at: datetime | None  # its bytes were found wrong (fsck, a checked whole read)


class BlobStateRepository(Protocol):
    """What the metadata store knows of stored blobs. A blob with no row was stored before rows
    were kept (or by a unit of work that rolled back): garbage collection adopts it as first seen."""

    def get(self, digest: Digest) -> BlobState | None: ...

    def touch(self, digest: Digest, *, now: datetime) -> None:
        """The blob was just stored or newly needed (the row made if absent)."""
        ...

    def adopt(self, digests: Iterable[Digest], *, now: datetime) -> int:
        """Rows for blobs that have none, as first seen ``now``; how many were made."""
        ...

    def touched(self) -> Mapping[Digest, datetime]:
        """When every blob with a row was last touched, in one read."""
        ...

    def lock_untouched(self, digest: Digest, *, since: datetime) -> bool:
        """Lock the blob's row for the rest of the unit of work if it was not touched since
        ``since`` (a touch then waits for the unit of work to end): whether it was."""
        ...

    def forget(self, digest: Digest) -> None: ...

    def mark_corrupt(self, digest: Digest, *, now: datetime) -> None: ...

    def clear_corrupt(self, digest: Digest) -> bool:
        """Whole bytes were stored again: whether it was marked."""
        ...

    def quarantine(self, digest: Digest, *, aside: str, size: int, now: datetime) -> None:
        """The blob's bytes were set aside at ``aside``: recorded, and its row gone."""
        ...

    def quarantined(self) -> Sequence[tuple[Digest, str]]:
        """Every blob set aside, oldest first, with where its bytes went."""
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

    def by_ids(self, ids: Collection[int]) -> Sequence[Artifact]:
        """The artifacts of ``ids`` (unknown ones left out), in one read."""
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

    def newest(self, registries: Collection[str], *, package_contains: str = "") -> Sequence[Placement]:
        """Per package and registry of ``registries``, the newest placement (the web UI's board), of
        the packages whose name contains ``package_contains`` (any case); one read."""
        ...

    def of_artifacts(self, ids: Collection[int]) -> Sequence[Placement]:
        """Every placement of the artifacts ``ids``, in one read."""
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

    def of_subjects(self, subjects: Collection[Digest]) -> Mapping[Digest, Sequence[Attachment]]:
        """The attachments of each digest, in one read (the web UI's board: no query per artifact)."""
        ...


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

    def current(self, *, package_contains: str = "") -> Sequence[Deployment]:
        """What runs now: per environment and package, the newest deployment that succeeded, of the
        packages whose name contains ``package_contains`` (any case); one read."""
        ...

    def succeeded_environments_of(self, ids: Collection[int]) -> Mapping[int, frozenset[str]]:
        """``succeeded_environments`` of each artifact of ``ids`` that succeeded anywhere, in one read."""
        ...


class HoldRepository(Protocol):
    def add(self, artifact_id: int, environment: str, *, reason: str, actor: str, now: datetime) -> Hold: ...

    def release(self, artifact_id: int, environment: str) -> bool:
        """Lift the hold; False if there was none."""
        ...

    def of(self, artifact_id: int) -> Sequence[Hold]: ...

    def every(self) -> Sequence[Hold]:
        """Every hold, in one read (the web UI's board)."""
        ...


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

    def search(self, where: EventFilter, *, before: int | None = None, limit: int) -> Sequence[AuditEvent]:
        """The newest ``limit`` events matching ``where`` with a seq below ``before`` (all when
        None), newest first: filtered and paged in the database."""
        ...

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
    def blobs(self) -> BlobStateRepository: ...
    @property
    def uploads(self) -> UploadRepository: ...
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

    def blob_corrupt(self, digest: str) -> bool:
        """Whether the blob's bytes were found wrong (and not stored whole again since)."""
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
