"""What every use case shares: the clock, retries of lost races, and the audit draft for an artifact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from hoist.domain.errors import ConcurrentUpdate
from hoist.domain.events import Action, EventDraft
from hoist.domain.models import Actor, Artifact, Pipeline
from hoist.domain.ports import MetadataStore

T = TypeVar("T")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def retrying(unit_of_work: Callable[[], T], attempts: int = 5) -> T:
    """Run a unit of work again when it lost a race (a unique key taken, a serialisation failure):
    the next attempt sees the winner's data and usually turns into a no-op."""
    for attempt in range(1, attempts + 1):
        try:
            return unit_of_work()
        except ConcurrentUpdate:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def artifact_event(
    action: Action,
    artifact: Artifact,
    actor: Actor,
    pipeline: Pipeline | None,
    **details: Any,
) -> EventDraft:
    return EventDraft(
        action=action,
        actor=actor.name,
        subject=artifact.ref,
        package=artifact.package,
        digest=str(artifact.digest),
        details=details,
        pipeline=pipeline.as_dict() if pipeline else None,
    )


def record_refusal(metadata: MetadataStore, draft: EventDraft, clock: Clock) -> None:
    """Refusals change nothing, so their audit event gets a unit of work of its own."""

    def unit_of_work() -> None:
        with metadata.session() as s:
            s.audit.append(draft, now=clock())

    retrying(unit_of_work)
