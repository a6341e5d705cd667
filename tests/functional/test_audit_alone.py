"""``MetadataStore.append_alone``: the audited download's append in plain statements. Its events sit
in the one chain with those appended in units of work, read back exactly as they were hashed (JSON
details, a pipeline or none), and the chain verifies, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from hoist.domain.events import Action, EventDraft, verify_chain
from hoist.metadata.sql.store import SqlMetadataStore

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def draft(i: int, pipeline: dict[str, str] | None = None) -> EventDraft:
    details = {"registry": "prod", "file": f"app-{i}.tgz", "nested": {"n": i, "note": "<b>é</b>"}}
    return EventDraft(Action.DOWNLOAD, "dana", f"npm/app@1.{i}.0", "npm/app", None, details, pipeline)


def test_alone_and_in_units_of_work_make_one_chain_read_back_as_hashed(metadata: SqlMetadataStore) -> None:
    made = []
    for i in range(6):
        if i % 2:
            made.append(metadata.append_alone(draft(i, {"run": str(i)} if i == 3 else None), now=NOW))
        else:
            with metadata.session() as s:
                made.append(s.audit.append(draft(i), now=NOW))
    with metadata.reader() as s:
        stored = list(s.audit.events(after=made[0].seq - 1))
        head = s.audit.head()
    assert stored == made
    assert [e.seq for e in made] == list(range(made[0].seq, made[0].seq + 6))
    assert (head.seq, head.hash) == (made[-1].seq, made[-1].hash)
    with metadata.reader() as s:
        assert verify_chain(s.audit.events()).ok


def test_concurrent_appends_alone_never_fork_the_chain(metadata: SqlMetadataStore) -> None:
    errors: list[BaseException] = []

    def downloads(worker: int) -> None:
        try:
            for i in range(15):
                metadata.append_alone(draft(worker * 100 + i), now=NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=downloads, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with metadata.reader() as s:
        events = list(s.audit.events())
    assert sum(e.action == Action.DOWNLOAD for e in events) == 60
    assert verify_chain(events).ok


def test_it_refuses_to_run_inside_a_unit_of_work_on_the_same_thread(metadata: SqlMetadataStore) -> None:
    with pytest.raises(RuntimeError, match="inside a metadata unit of work"), metadata.session():
        metadata.append_alone(draft(1), now=NOW)
