"""OCI tags and what they mean to Hoist.

- A *version tag* (``1.4.0_58``) names the artifact ``<package>@1.4.0+58``: it is never stored as a
  tag but derived from the artifacts placed in the registry, with all that versions imply.
- A *signature tag* (cosign's ``sha256-<hex>.sig`` / ``.att`` / ``.sbom``) or a *referrers tag*
  (``sha256-<hex>``, the distribution-spec fallback) belongs to the manifest whose digest it names:
  always movable (clients append to them), and carried along when that manifest is promoted.
- Any other tag (``latest``, ``main``) is a movable pointer, where the registry allows those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidDigest, InvalidTag
from hoist.domain.names import clip
from hoist.domain.versions import Version

_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
_ATTACHED = re.compile(r"(sha256|sha512)-([a-f0-9]{64}|[a-f0-9]{128})(\.sig|\.att|\.sbom)?")


class TagKind(StrEnum):
    VERSION = "version"
    ATTACHED = "attached"  # signature, attestation, SBOM or referrers-fallback tag of a digest
    MOVABLE = "movable"


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    kind: TagKind
    version: Version | None = None
    subject: Digest | None = None  # for attached tags: the digest they belong to

    @classmethod
    def parse(cls, name: str) -> Tag:
        if not _TAG.fullmatch(name):
            raise InvalidTag(
                f"{clip(name)!r} is not a valid tag: up to 128 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-'",
                tag=clip(name),
            )
        attached = _ATTACHED.fullmatch(name)
        subject = _digest_or_none(f"{attached[1]}:{attached[2]}") if attached else None
        if subject is not None:
            return cls(name, TagKind.ATTACHED, subject=subject)
        version = Version.from_tag(name)
        if version is not None:
            return cls(name, TagKind.VERSION, version=version)
        return cls(name, TagKind.MOVABLE)


def _digest_or_none(text: str) -> Digest | None:
    try:
        return Digest.parse(text)
    except InvalidDigest:  # e.g. sha256- followed by 128 hex digits
        return None


def attached_tags(digest: Digest) -> tuple[str, ...]:
    """The tags that may hang off a digest (cosign's three, and the referrers fallback)."""
    base = f"{digest.algorithm}-{digest.hex}"
    return (base, f"{base}.sig", f"{base}.att", f"{base}.sbom")
