from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hoist.domain.events import (
    GENESIS,
    Action,
    AuditEvent,
    ChainMark,
    EventDraft,
    canonical_json,
    chain,
    verify_chain,
)

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make_chain(n: int) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    prev = GENESIS
    for i in range(1, n + 1):
        draft = EventDraft(Action.PUSH, "alice", f"pkg@1.0.{i}", package="pkg", details={"n": i, "ok": True})
        event = chain(draft, seq=i, moment=T0 + timedelta(seconds=i), prev=prev)
        events.append(event)
        prev = event.hash
    return events


def test_an_untouched_chain_verifies() -> None:
    events = make_chain(5)
    report = verify_chain(events)
    assert report.ok and report.checked == 5 and report.head == events[-1].hash
    assert verify_chain([]).ok


def test_a_changed_event_is_named() -> None:
    events = make_chain(5)
    events[2] = replace(events[2], actor="mallory")
    report = verify_chain(events)
    assert not report.ok and report.broken_at == 3 and report.checked == 2
    assert "changed" in (report.reason or "")


def test_a_removed_event_breaks_the_chain_where_it_was() -> None:
    events = make_chain(5)
    del events[1]
    report = verify_chain(events)
    assert not report.ok and report.broken_at == 3


def test_a_rehashed_forgery_still_breaks_the_next_link() -> None:
    events = make_chain(4)
    forged = replace(events[1], details={"n": 99})
    forged = chain(
        EventDraft(Action.PUSH, forged.actor, forged.subject, forged.package, forged.digest, forged.details),
        seq=2,
        moment=T0,
        prev=events[0].hash,
    )
    events[1] = forged
    report = verify_chain(events)
    assert not report.ok and report.broken_at == 3 and "link" in (report.reason or "")


def test_a_cut_tail_is_named_by_the_marks_the_chain_no_longer_reaches() -> None:
    events = make_chain(5)
    head, checkpoint = ChainMark("the head", 5, events[4].hash), ChainMark("the checkpoint", 3, events[2].hash)
    assert verify_chain(events, [head, checkpoint]).ok
    assert verify_chain(events, [ChainMark("the head", 0, GENESIS)]).ok  # nothing written yet
    report = verify_chain(events[:2], [head, checkpoint])
    assert (report.ok, report.checked, report.broken_at) == (False, 2, 3)
    assert report.reason == "event 3 is missing: the chain ends at event 2, the checkpoint is event 3"
    report = verify_chain(events[:4], [head])
    assert report.reason == "event 5 is missing: the chain ends at event 4, the head is event 5"
    report = verify_chain(make_chain(5), [ChainMark("the head", 4, events[4].hash)])
    assert (report.ok, report.broken_at) == (False, 4)
    assert report.reason == "event 4 is not the one the head names"


def test_events_round_trip_through_their_dict_form() -> None:
    event = make_chain(1)[0]
    assert AuditEvent.from_dict(event.as_dict()) == event


def test_canonical_json_follows_rfc_8785() -> None:
    # key order by UTF-16 code units, no whitespace, minimal escapes, integers as integers
    value = {"b": [1, "x"], "a": {"\u20ac": 1, "\r": 2, "1": None}, "é": True, "\U0001f600": 0, "\ufb33": 1}
    assert (
        canonical_json(value) == ('{"a":{"\\r":2,"1":null,"€":1},"b":[1,"x"],"é":true,"\U0001f600":0,"\ufb33":1}').encode()
    )


def test_canonical_json_refuses_floats() -> None:
    with pytest.raises(TypeError):
        canonical_json({"x": 1.5})
