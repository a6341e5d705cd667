"""The records Hoist keeps, as immutable values. Stores return these; services reason over them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from hoist.domain.access import NOBODY, Permissions, Right
from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput
from hoist.domain.names import clip, validate_package_name
from hoist.domain.packages import version_of
from hoist.domain.versions import Channel, Version

GENERIC = "generic"
OCI = "oci"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks, as authentication proved it: a user, a robot (CI) or ``anonymous``, what it may do,
    from which address, and with which credential (``password``, ``token:<id>``)."""

    name: str
    kind: str = "user"
    authenticated: bool = False
    source: str | None = None
    permissions: Permissions = NOBODY
    credential: str | None = None

    def may(self, right: Right, target: str | None = None) -> bool:
        return self.permissions.allows(right, target)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The CI run that performed an action, read from the CI environment or given by ``--pipeline``."""

    provider: str
    id: str
    url: str | None = None
    project: str | None = None
    commit: str | None = None
    ref: str | None = None
    job: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in _fields(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pipeline:
        known = {k: str(data[k]) for k in _PIPELINE_FIELDS if data.get(k) is not None}
        if "provider" not in known or "id" not in known:
            raise InvalidInput("a pipeline needs at least 'provider' and 'id'")
        return cls(**known)


_PIPELINE_FIELDS = ("provider", "id", "url", "project", "commit", "ref", "job")


def _fields(p: Pipeline) -> dict[str, str | None]:
    return {k: getattr(p, k) for k in _PIPELINE_FIELDS}


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """``name@version`` or ``name@sha256:...``; the version is read in the package's scheme
    (``pypi/shop-utils@1.4.0rc1``, ``maven/org.acme:shop-core@1.4.0-RC1``, ``npm/@acme/ui@1.2.0``)."""

    package: str
    version: Version | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str) -> ArtifactRef:
        name, sep, rest = text.rpartition("@")
        if not sep or not name or not rest:
            raise InvalidInput(f"{clip(text)!r} is not an artifact reference: use NAME@VERSION or NAME@sha256:...")
        validate_package_name(name)
        if ":" in rest:
            return cls(name, digest=Digest.parse(rest))
        return cls(name, version=version_of(name, rest))

    def __str__(self) -> str:
        return f"{self.package}@{self.version if self.version is not None else self.digest}"


CHECKSUM_ALGORITHMS = ("md5", "sha1", "sha512")  # besides the digest: what package clients check


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file of an artifact version. ``checksums`` are the other hashes package clients ask for
    (Maven's ``.sha1``/``.md5``, npm's sha512 ``integrity``), computed by the server as the bytes
    arrived, as sorted ``(algorithm, hex)`` pairs; files pushed before had none."""

    name: str
    digest: Digest
    size: int
    media_type: str = "application/octet-stream"
    checksums: tuple[tuple[str, str], ...] = ()

    def checksum(self, algorithm: str) -> str | None:
        """The hex digest under ``algorithm`` (``sha256`` is the digest itself), None if not recorded."""
        if algorithm == self.digest.algorithm:
            return self.digest.hex
        return dict(self.checksums).get(algorithm)


@dataclass(frozen=True, slots=True)
class Artifact:
    id: int
    package: str
    format: str
    version: Version
    digest: Digest
    media_type: str
    size: int
    ceiling: str
    pushed_by: str
    pushed_at: datetime
    pipeline: Pipeline | None = None

    @property
    def channel(self) -> Channel:
        return self.version.channel

    @property
    def ref(self) -> str:
        return f"{self.package}@{self.version}"


class PlacementVia(StrEnum):
    PUSH = "push"
    PROMOTION = "promotion"


@dataclass(frozen=True, slots=True)
class Placement:
    artifact_id: int
    registry: str
    sealed: bool
    via: PlacementVia
    placed_by: str
    placed_at: datetime


class MarkKind(StrEnum):
    """What a registry may say of a version it holds, without changing its bytes."""

    DEPRECATED = "deprecated"  # npm deprecate: still installable, the client warns
    YANKED = "yanked"  # PEP 592: installers skip it unless pinned exactly


class AttachmentKind(StrEnum):
    ATTESTATION = "attestation"
    APPROVAL = "approval"
    SIGNATURE = "signature"


class Result(StrEnum):
    PASS = "pass"  # noqa: S105 - a test outcome, not a password
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Attachment:
    """Evidence bound to a digest: an attestation (typed, with a result) or an approval for an env."""

    id: int
    subject: Digest
    kind: AttachmentKind
    type: str
    result: Result | None
    environment: str | None
    actor: str
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    pipeline: Pipeline | None = None


class DeploymentStatus(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DeploymentKind(StrEnum):
    DEPLOY = "deploy"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class Deployment:
    id: int
    artifact_id: int
    package: str
    version: Version
    digest: Digest
    environment: str
    status: DeploymentStatus
    kind: DeploymentKind
    actor: str
    started_at: datetime
    finished_at: datetime | None = None
    pipeline: Pipeline | None = None
    reason: str | None = None
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """An artifact held back from an environment after a rollback, until approved again."""

    artifact_id: int
    environment: str
    reason: str
    actor: str
    created_at: datetime
