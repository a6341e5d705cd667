"""Every error Hoist's core can raise, as one tree.

Each class carries a stable machine ``code``; the HTTP edge maps classes to status codes in exactly
one table (``hoist.http.errors``) and the CLI maps codes to exit codes. Nothing below knows HTTP.

    HoistError
     ├── InvalidInput            the request itself is wrong; retrying it unchanged cannot succeed
     │    ├── InvalidVersion
     │    │    └── BuildOutOfRange   a build number past MAX_BUILD, or none left for --build auto
     │    ├── InvalidName
     │    ├── InvalidDigest
     │    ├── InvalidManifest
     │    │    └── ManifestBlobUnknown   a manifest names a blob the repository does not have
     │    ├── InvalidEvidence     (e.g. unreadable JUnit XML)
     │    ├── DigestMismatch      uploaded bytes do not hash to the digest the client declared
     │    ├── UploadOutOfOrder    a chunk does not start where the upload ends
     │    ├── UploadTruncated     the body ended before the declared length
     │    └── RangeNotSatisfiable a Range header that cannot be served (details: the size)
     ├── TooLarge                 over a configured size limit
     ├── NotFound
     │    ├── UnknownRegistry, UnknownEnvironment
     │    ├── PackageNotFound, ArtifactNotFound, DeploymentNotFound
     │    ├── RepositoryNotFound, ManifestNotFound
     │    ├── BlobNotFound, UploadNotFound
     │    └── NothingToRollBack
     ├── Conflict                 the request clashes with what is stored
     │    ├── VersionExists       the version holds other bytes; names the existing digest
     │    ├── ConcurrentUpdate    another transaction won a race; the unit of work may be retried
     │    └── InvalidState        e.g. finishing a deployment that already finished
     ├── Unauthenticated          credentials missing or wrong
     │    └── TooManyAttempts     failed logins for that name are throttled for a while
     ├── Refused                  policy says no; lists every unmet condition
     │    ├── PromotionRefused
     │    ├── DeploymentRefused
     │    └── Denied              a registry's policy forbids the action outright
     └── IntegrityFailure         stored bytes do not match their digest
          └── BlobCorrupt         marked corrupt (fsck, a whole read): never served until repaired
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class HoistError(Exception):
    code = "ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details


class InvalidInput(HoistError):
    code = "INVALID_INPUT"


class InvalidVersion(InvalidInput):
    code = "VERSION_INVALID"


class BuildOutOfRange(InvalidVersion):
    code = "BUILD_OUT_OF_RANGE"


class InvalidName(InvalidInput):
    code = "NAME_INVALID"


class InvalidDigest(InvalidInput):
    code = "DIGEST_INVALID"


class InvalidManifest(InvalidInput):
    code = "MANIFEST_INVALID"


class ManifestBlobUnknown(InvalidManifest):
    code = "MANIFEST_BLOB_UNKNOWN"


class InvalidTag(InvalidName):
    code = "TAG_INVALID"


class InvalidEvidence(InvalidInput):
    code = "EVIDENCE_INVALID"


class DigestMismatch(InvalidInput):
    code = "DIGEST_MISMATCH"


class UploadOutOfOrder(InvalidInput):
    code = "UPLOAD_OUT_OF_ORDER"


class UploadTruncated(InvalidInput):
    code = "UPLOAD_TRUNCATED"


class RangeNotSatisfiable(InvalidInput):
    code = "RANGE_INVALID"


class TooLarge(HoistError):
    code = "TOO_LARGE"


class NotFound(HoistError):
    code = "NOT_FOUND"


class UnknownRegistry(NotFound):
    code = "REGISTRY_UNKNOWN"


class UnknownEnvironment(NotFound):
    code = "ENVIRONMENT_UNKNOWN"


class PackageNotFound(NotFound):
    code = "PACKAGE_UNKNOWN"


class ArtifactNotFound(NotFound):
    code = "ARTIFACT_UNKNOWN"


class DeploymentNotFound(NotFound):
    code = "DEPLOYMENT_UNKNOWN"


class RepositoryNotFound(NotFound):
    code = "NAME_UNKNOWN"


class ManifestNotFound(NotFound):
    code = "MANIFEST_UNKNOWN"


class BlobNotFound(NotFound):
    code = "BLOB_UNKNOWN"


class UploadNotFound(NotFound):
    code = "UPLOAD_UNKNOWN"


class NothingToRollBack(NotFound):
    code = "NO_ROLLBACK_TARGET"


class Conflict(HoistError):
    code = "CONFLICT"


class VersionExists(Conflict):
    code = "VERSION_EXISTS"


class ConcurrentUpdate(Conflict):
    code = "CONCURRENT_UPDATE"


class InvalidState(Conflict):
    code = "INVALID_STATE"


class Unauthenticated(HoistError):
    code = "UNAUTHORIZED"


class TooManyAttempts(Unauthenticated):
    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, message: str, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Problem:
    """One unmet condition, named by its gate (``ceiling``, ``attestation:unit-tests``, ...)."""

    gate: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"gate": self.gate, "message": self.message}


class Refused(HoistError):
    code = "REFUSED"

    def __init__(self, message: str, problems: Sequence[Problem] = (), **details: Any) -> None:
        super().__init__(message, **details)
        self.problems = tuple(problems)
        self.details["problems"] = [p.as_dict() for p in self.problems]


class PromotionRefused(Refused):
    code = "PROMOTION_REFUSED"


class DeploymentRefused(Refused):
    code = "DEPLOYMENT_REFUSED"


class Denied(Refused):
    code = "DENIED"


class IntegrityFailure(HoistError):
    code = "INTEGRITY_FAILURE"


class BlobCorrupt(IntegrityFailure):
    """The blob's bytes were found not to hash to its digest (by fsck or a whole read): it is never
    served until repaired."""

    code = "BLOB_CORRUPT"

    @classmethod
    def of(cls, digest: object) -> BlobCorrupt:
        return cls(
            f"blob {digest} is corrupt (its stored bytes do not hash to its digest): push it again or restore it",
            digest=str(digest),
        )


def describe_problems(problems: Sequence[Problem]) -> str:
    return "; ".join(f"{p.gate}: {p.message}" for p in problems)
