"""The metadata schema. Changes go through an Alembic migration (``migrations/versions``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the metadata store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class PackageRow(Base):
    __tablename__ = "packages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    format: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # counts every change to what a registry shows of the package (placements, content, tags,
    # marks): package views cache by it, across workers, with one indexed read
    generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ManifestRow(Base):
    __tablename__ = "manifests"
    digest: Mapped[str] = mapped_column(String(200), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(255))
    artifact_type: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class ManifestBlobRow(Base):
    """Which blobs each manifest needs: the edges garbage collection follows."""

    __tablename__ = "manifest_blobs"
    manifest_digest: Mapped[str] = mapped_column(
        String(200), ForeignKey("manifests.digest", ondelete="CASCADE"), primary_key=True
    )
    blob_digest: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class ArtifactRow(Base):
    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("package_id", "version_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    version: Mapped[str] = mapped_column(String(128))
    version_key: Mapped[str] = mapped_column(String(128))
    base_key: Mapped[str] = mapped_column(String(128))
    build_number: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(ForeignKey("manifests.digest"), index=True)
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    ceiling: Mapped[str] = mapped_column(String(64))
    pushed_by: Mapped[str] = mapped_column(String(255))
    pushed_at: Mapped[datetime]
    pipeline: Mapped[dict[str, Any] | None]


class BuildCounterRow(Base):
    __tablename__ = "build_counters"
    package: Mapped[str] = mapped_column(String(255), primary_key=True)
    base_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class PlacementRow(Base):
    __tablename__ = "placements"
    __table_args__ = (UniqueConstraint("artifact_id", "registry"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"), index=True)
    # "registry" is reserved on declarative classes, hence the attribute name
    registry_name: Mapped[str] = mapped_column("registry", String(64), index=True)
    sealed: Mapped[bool] = mapped_column(Boolean)
    via: Mapped[str] = mapped_column(String(16))
    placed_by: Mapped[str] = mapped_column(String(255))
    placed_at: Mapped[datetime]


class PlacementHeadRow(Base):
    """Per package and registry, its newest placement, kept as placements come and go: the board
    reads one row per cell instead of ranking every placement."""

    __tablename__ = "placement_heads"
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), primary_key=True)
    registry_name: Mapped[str] = mapped_column("registry", String(64), primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"))
    placed_at: Mapped[datetime]


class AttachmentRow(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(128))
    result: Mapped[str | None] = mapped_column(String(16))
    environment: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    details: Mapped[dict[str, Any]]
    pipeline: Mapped[dict[str, Any] | None]


class VersionMarkRow(Base):
    """What a registry says of a version it holds: ``deprecated`` (npm) or ``yanked`` (PEP 592)."""

    __tablename__ = "version_marks"
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"), primary_key=True)
    registry_name: Mapped[str] = mapped_column("registry", String(64), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class DeploymentRow(Base):
    __tablename__ = "deployments"
    __table_args__ = (Index("ix_deployments_environment_id", "environment", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"), index=True)
    digest: Mapped[str] = mapped_column(String(200))
    environment: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    pipeline: Mapped[dict[str, Any] | None]
    reason: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None] = mapped_column(Integer)


class DeploymentHeadRow(Base):
    """Per package and environment, the newest deployment that succeeded (what runs there now),
    kept as deployments succeed."""

    __tablename__ = "deployment_heads"
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), primary_key=True)
    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))


class HoldRow(Base):
    __tablename__ = "holds"
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"), primary_key=True)
    environment: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(512), index=True)
    package: Mapped[str | None] = mapped_column(String(255), index=True)
    digest: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]]
    pipeline: Mapped[dict[str, Any] | None]
    prev: Mapped[str] = mapped_column(String(80))
    hash: Mapped[str] = mapped_column(String(80))


class AuditHeadRow(Base):
    """One row: the chain's head. Appending locks it, which orders concurrent appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(80))


class AuditCheckpointRow(Base):
    """A chain head the server signed (``GET /audit/checkpoint``): the chain must keep reaching it."""

    __tablename__ = "audit_checkpoints"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(80))
    signed_at: Mapped[datetime]


class RepositoryManifestRow(Base):
    """A manifest is in the repository ``<registry>/<package>``: pullable there by digest."""

    __tablename__ = "repository_manifests"
    __table_args__ = (UniqueConstraint("registry", "package_id", "digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_name: Mapped[str] = mapped_column("registry", String(64))
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    digest: Mapped[str] = mapped_column(ForeignKey("manifests.digest"), index=True)
    created_at: Mapped[datetime]


class RepositoryBlobRow(Base):
    """A blob uploaded or mounted into a repository before (or without) a manifest naming it."""

    __tablename__ = "repository_blobs"
    registry_name: Mapped[str] = mapped_column("registry", String(64), primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    created_at: Mapped[datetime]


class TagRow(Base):
    """A tag that is not a version (``latest``, ``sha256-<hex>.sig``): a movable pointer.
    Version tags are not stored here: they are the artifacts placed in the registry."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("registry", "package_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_name: Mapped[str] = mapped_column("registry", String(64))
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(ForeignKey("manifests.digest"), index=True)
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime]


class SbomRow(Base):
    """An SBOM of an artifact (its document is a blob); its components are indexed below."""

    __tablename__ = "sboms"
    __table_args__ = (UniqueConstraint("subject", "document"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    document: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(16))
    spec_version: Mapped[str] = mapped_column(String(16))
    generated: Mapped[bool] = mapped_column(Boolean)
    components: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ComponentRow(Base):
    """The "am I affected?" index: one row per component per SBOM, searched by key or bare name."""

    __tablename__ = "components"
    __table_args__ = (
        Index("ix_components_key_version", "key", "version"),
        Index("ix_components_name_version", "name", "version"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sbom_id: Mapped[int] = mapped_column(ForeignKey("sboms.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(512))  # lower-case namespace/name
    name: Mapped[str] = mapped_column(String(255))  # lower-case name without namespace
    display: Mapped[str] = mapped_column(String(512))  # as the SBOM spells it
    namespace: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(255))
    purl: Mapped[str | None] = mapped_column(Text)


class AdvisoryRow(Base):
    __tablename__ = "advisories"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    aliases: Mapped[dict[str, Any]]  # {"aliases": [...]}
    summary: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    modified: Mapped[datetime]
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[datetime]


class AdvisoryPackageRow(Base):
    """One affected[] entry of an advisory, indexed by the (purl type, key) of the package it names."""

    __tablename__ = "advisory_packages"
    __table_args__ = (Index("ix_advisory_packages_key_type", "key", "type"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisory_id: Mapped[str] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(512))
    affected: Mapped[dict[str, Any]]


class UserRow(Base):
    """A user or a robot (``kind``). Users, robots and teams share one namespace of names."""

    __tablename__ = "users"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))


class TeamRow(Base):
    __tablename__ = "teams"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))


class TeamMemberRow(Base):
    __tablename__ = "team_members"
    team: Mapped[str] = mapped_column(ForeignKey("teams.name", ondelete="CASCADE"), primary_key=True)
    user: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime]


class GrantRow(Base):
    """A role (``role:NAME``) or a permission (``push:dev``) given to a user, robot or team. Robots
    are granted as ``user``: one namespace of names."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("principal_kind", "principal", "grant"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_kind: Mapped[str] = mapped_column(String(16))
    principal: Mapped[str] = mapped_column(String(64))
    grant: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))


class TokenRow(Base):
    """An API token: only its sha256 is kept. ``scope`` NULL means everything the owner holds."""

    __tablename__ = "tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(ForeignKey("users.name"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    scope: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginFailureRow(Base):
    """A failed password login, once per throttle key (``name:<claimed>``, ``source:<address>``):
    shared by every worker and server, pruned once out of the throttle's window."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_failed_at", "key", "failed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    failed_at: Mapped[datetime] = mapped_column(index=True)


class TrashRow(Base):
    """An artifact version retention took out of a registry: restorable until ``purge_after``.
    ``members`` are the manifests taken out of the repository with it (its referrers), ``tags`` the
    movable tags that pointed at them, so that a restore puts everything back."""

    __tablename__ = "trash"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"), index=True)
    registry_name: Mapped[str] = mapped_column("registry", String(64), index=True)
    sealed: Mapped[bool] = mapped_column(Boolean)
    via: Mapped[str] = mapped_column(String(16))
    placed_by: Mapped[str] = mapped_column(String(255))
    placed_at: Mapped[datetime]
    members: Mapped[list[str]] = mapped_column(JSON)
    tags: Mapped[list[list[str]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    deleted_by: Mapped[str] = mapped_column(String(255))
    deleted_at: Mapped[datetime]
    purge_after: Mapped[datetime] = mapped_column(index=True)
    restored_at: Mapped[datetime | None]
    restored_by: Mapped[str | None] = mapped_column(String(255))
    purged_at: Mapped[datetime | None]


class BlobStateRow(Base):
    """What is known of a stored blob beyond its bytes (the blob store keeps bytes only): when it
    was last stored or newly needed (garbage collection's grace), and whether its bytes were found
    wrong."""

    __tablename__ = "blob_states"
    digest: Mapped[str] = mapped_column(String(200), primary_key=True)
    touched_at: Mapped[datetime]
    corrupt_at: Mapped[datetime | None]


class QuarantinedBlobRow(Base):
    """A corrupt blob's bytes fsck set aside (``aside``: where the blob store put them)."""

    __tablename__ = "quarantined_blobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(200), index=True)
    aside: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(BigInteger)
    quarantined_at: Mapped[datetime]


class BlobUploadRow(Base):
    """An upload in progress: its bytes are in the blob store under ``store_key``; how many, and the
    running SHA-256 over them (``hash_state``, serialised), are here, so any server continues it."""

    __tablename__ = "blob_uploads"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_key: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(BigInteger)
    hash_state: Mapped[bytes | None] = mapped_column(LargeBinary)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class JobRow(Base):
    """A queued job of the embedded (SQLite) queue: ``metadata/sql/jobs.py``. On PostgreSQL the
    queue is procrastinate's own tables and this one stays empty."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"), Index("ix_jobs_name_key", "name", "key"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(String(255))
    args: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    run_after: Mapped[datetime | None]  # todo: not before; doing: the lease ends (a crashed worker's job runs again)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None]


class JobErrorRow(Base):
    """The last error of a procrastinate job (PostgreSQL), which its own tables do not keep: what
    ``hoist jobs`` shows for a failed job. The embedded queue keeps it in ``jobs.error``."""

    __tablename__ = "job_errors"
    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime]
