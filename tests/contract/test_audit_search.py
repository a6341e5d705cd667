"""The audit log's search, run on SQLite and on a real PostgreSQL server: filtered and paged in the
database, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hoist.domain.events import Action, EventDraft, EventFilter, format_time
from hoist.metadata.sql.store import SqlMetadataStore

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def record(metadata: SqlMetadataStore) -> None:
    """Twelve events an hour apart: alice and bob take turns, deployments to dev and prod."""
    with metadata.session() as s:
        for i in range(12):
            env = "prod" if i % 3 == 0 else "dev"
            draft = EventDraft(
                Action.DEPLOY_SUCCEED if i % 2 else Action.PUSH,
                "alice" if i % 2 else "bob",
                f"shop-api@1.{i}.0" if i < 8 else f"billing@1.{i}.0",
                package="shop-api" if i < 8 else "billing",
                details={"environment": env, "note": "<b>x</b>"},
            )
            s.audit.append(draft, now=START + timedelta(hours=i))


def seqs(metadata: SqlMetadataStore, where: EventFilter, before: int | None = None, limit: int = 100) -> list[int]:
    with metadata.reader() as s:
        return [e.seq for e in s.audit.search(where, before=before, limit=limit)]


def test_search_pages_newest_first_with_a_cursor(metadata: SqlMetadataStore) -> None:
    record(metadata)
    assert seqs(metadata, EventFilter(), limit=5) == [12, 11, 10, 9, 8]
    assert seqs(metadata, EventFilter(), before=8, limit=5) == [7, 6, 5, 4, 3]
    assert seqs(metadata, EventFilter(), before=3, limit=5) == [2, 1]
    assert seqs(metadata, EventFilter(), before=1) == []


def test_search_filters_every_field_in_the_query(metadata: SqlMetadataStore) -> None:
    record(metadata)  # event seq n is the (n-1)th drafted
    assert seqs(metadata, EventFilter(actor="alice")) == [12, 10, 8, 6, 4, 2]
    assert seqs(metadata, EventFilter(action=str(Action.PUSH))) == [11, 9, 7, 5, 3, 1]
    assert seqs(metadata, EventFilter(package="billing")) == [12, 11, 10, 9]
    assert seqs(metadata, EventFilter(environment="prod")) == [10, 7, 4, 1]
    since, until = format_time(START + timedelta(hours=2)), format_time(START + timedelta(hours=5))
    assert seqs(metadata, EventFilter(since=since, until=until)) == [5, 4, 3]
    both = EventFilter(actor="alice", environment="prod", package="shop-api")
    assert seqs(metadata, both) == [4]
    assert seqs(metadata, EventFilter(actor="alice", environment="prod"), before=4) == []
    assert seqs(metadata, EventFilter(actor="nobody")) == []
