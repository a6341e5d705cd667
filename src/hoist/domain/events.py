"""The audit trail: append-only events, hash-chained over canonical JSON.

Each event's ``hash`` is the sha256 of the canonical JSON (RFC 8785) of all its other fields,
``prev`` included, so changing, removing or reordering any event breaks every link after it.
``verify_chain`` recomputes the chain and names the first broken link; a hash chain alone cannot
show its tail was cut off, so it also checks the chain still reaches the recorded head and every
signed checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from hoist.domain.requests import REQUEST_ID

GENESIS = "sha256:" + "0" * 64


class Action(StrEnum):
    PUSH = "artifact:push"
    PLACE = "artifact:place"
    OVERWRITE = "artifact:overwrite"
    ADD_FILES = "artifact:add-files"
    DOWNLOAD = "artifact:download"
    MARK = "artifact:mark"
    UNMARK = "artifact:unmark"
    ATTEST = "artifact:attest"
    SIGN = "artifact:sign"
    SBOM = "artifact:sbom"
    VULN_IMPORT = "advisories:import"
    APPROVE = "artifact:approve"
    PROMOTE = "artifact:promote"
    PROMOTE_REFUSED = "artifact:promote-refused"
    PUSH_REFUSED = "artifact:push-refused"
    DEPLOY_START = "deployment:start"
    DEPLOY_SUCCEED = "deployment:succeed"
    DEPLOY_FAIL = "deployment:fail"
    DEPLOY_REFUSED = "deployment:refused"
    ROLLBACK = "deployment:rollback"
    MANIFEST_PUSH = "manifest:push"
    MANIFEST_DELETE = "manifest:delete"
    TAG_MOVE = "tag:move"
    TAG_DELETE = "tag:delete"
    BLOB_UNLINK = "blob:unlink"
    HOLD = "environment:hold"
    RELEASE_HOLD = "environment:release-hold"
    AUTH_FAILED = "auth:failed"
    ACCESS_DENIED = "access:denied"
    BOOTSTRAP = "server:bootstrap"
    USER_CREATE = "user:create"
    USER_UPDATE = "user:update"
    TEAM_CREATE = "team:create"
    TEAM_DELETE = "team:delete"
    TEAM_ADD = "team:add-member"
    TEAM_REMOVE = "team:remove-member"
    GRANT = "access:grant"
    REVOKE = "access:revoke"
    TOKEN_CREATE = "token:create"  # noqa: S105 - an action name
    TOKEN_REVOKE = "token:revoke"  # noqa: S105 - an action name
    RETENTION_DELETE = "artifact:retention-delete"
    DELETE = "artifact:delete"
    DELETE_REFUSED = "artifact:delete-refused"
    RESTORE = "artifact:restore"
    PURGE = "artifact:purge"
    COLLECT = "blobs:collect"
    DRILL = "environment:rollback-drill"
    FSCK = "store:fsck"


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a search keeps; every field set must match. ``since`` and ``until`` are times
    as events carry them (``format_time``): from ``since`` included to ``until`` excluded."""

    actor: str | None = None
    action: str | None = None
    package: str | None = None
    environment: str | None = None  # the event's details name it (deployments, approvals, holds)
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What a service knows about a change; the store adds sequence, time and the chain links."""

    action: Action
    actor: str
    subject: str
    package: str | None = None
    digest: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    pipeline: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    time: str
    actor: str
    action: str
    subject: str
    package: str | None
    digest: str | None
    details: dict[str, Any]
    pipeline: dict[str, str] | None
    prev: str
    hash: str

    def body(self) -> dict[str, Any]:
        """Every field the hash covers."""
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "package": self.package,
            "digest": self.digest,
            "details": self.details,
            "pipeline": self.pipeline,
            "prev": self.prev,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditEvent:
        return cls(
            seq=int(data["seq"]),
            time=str(data["time"]),
            actor=str(data["actor"]),
            action=str(data["action"]),
            subject=str(data["subject"]),
            package=data.get("package"),
            digest=data.get("digest"),
            details=dict(data.get("details") or {}),
            pipeline=data.get("pipeline"),
            prev=str(data["prev"]),
            hash=str(data["hash"]),
        )


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain(draft: EventDraft, *, seq: int, moment: datetime, prev: str) -> AuditEvent:
    """The event ``draft`` becomes at ``seq``: the request that caused it (its id) is in its details,
    so an event and the server's log lines of that request find each other."""
    request = REQUEST_ID.get()
    details = draft.details if request is None or "request_id" in draft.details else {**draft.details, "request_id": request}
    unsealed = AuditEvent(
        seq=seq,
        time=format_time(moment),
        actor=draft.actor,
        action=str(draft.action),
        subject=draft.subject,
        package=draft.package,
        digest=draft.digest,
        details=details,
        pipeline=draft.pipeline,
        prev=prev,
        hash="",
    )
    return AuditEvent(**{**unsealed.body(), "hash": event_hash(unsealed)})


def event_hash(event: AuditEvent) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(event.body())).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    head: str
    broken_at: int | None = None
    reason: str | None = None


HEAD_MARK = "the recorded head"
CHECKPOINT_MARK = "the latest signed checkpoint"


@dataclass(frozen=True, slots=True)
class ChainMark:
    """A point the chain is known to have reached: event ``seq`` had ``hash``. The stored head and
    every signed checkpoint are marks; a chain that no longer passes through one lost its tail or
    was rewritten, even when every remaining link verifies."""

    name: str  # what vouches for it, for the report: "the recorded head", "checkpoint FILE"
    seq: int
    hash: str


def verify_chain(events: Iterable[AuditEvent], marks: Sequence[ChainMark] = ()) -> ChainReport:
    """Recompute every link and check the chain passes through every mark (read before the
    events, so events appended meanwhile only extend it); name the first problem."""
    wanted = {m.seq for m in marks}
    seen: dict[int, str] = {}
    prev, expected_seq, checked = GENESIS, 1, 0
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(False, checked, prev, event.seq, f"expected event {expected_seq}, found {event.seq}")
        if event.prev != prev:
            return ChainReport(False, checked, prev, event.seq, f"event {event.seq} does not link to the event before it")
        if event_hash(event) != event.hash:
            return ChainReport(False, checked, prev, event.seq, f"event {event.seq} was changed after it was written")
        if event.seq in wanted:
            seen[event.seq] = event.hash
        prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    for mark in sorted(marks, key=lambda m: m.seq):
        if mark.seq == 0 or seen.get(mark.seq) == mark.hash:
            continue
        if mark.seq > checked:
            missing = f"event {mark.seq} is" if mark.seq == checked + 1 else f"events {checked + 1}-{mark.seq} are"
            reason = f"{missing} missing: the chain ends at event {checked}, {mark.name} is event {mark.seq}"
            return ChainReport(False, checked, prev, checked + 1, reason)
        return ChainReport(False, checked, prev, mark.seq, f"event {mark.seq} is not the one {mark.name} names")
    return ChainReport(True, checked, prev)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 JSON canonicalization for the values events hold (no floats)."""
    return _canonical(value).encode()


def _canonical(value: Any) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        # RFC 8785 sorts member names by their UTF-16 code units
        items = sorted(value.items(), key=lambda kv: str(kv[0]).encode("utf-16-be"))
        return "{" + ",".join(f"{_canonical(str(k))}:{_canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    raise TypeError(f"audit events hold no {type(value).__name__} values")
