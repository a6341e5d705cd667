"""The web UI's audit page: the trail newest first, paged by a cursor, filtered in the database; the
chain's verification and latest signed checkpoint; details escaped; the API's rights and refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from markupsafe import escape

from hoist.app import Services
from hoist.domain.events import Action, EventDraft
from hoist.metadata.sql.store import SqlMetadataStore
from tests.conftest import ADMIN
from tests.functional.web_helpers import Browser

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MARKUP = "<script>alert(1)</script>"


def record(metadata: SqlMetadataStore, count: int) -> None:
    """``count`` deployments a minute apart, alternately by alice to dev and bob to prod."""
    with metadata.session() as s:
        for i in range(count):
            env, who = ("dev", "alice") if i % 2 else ("prod", "bob")
            details = {"environment": env, "reason": MARKUP, "n": [i]}
            draft = EventDraft(Action.DEPLOY_SUCCEED, who, f"shop-api@1.{i}.0", package="shop-api", details=details)
            s.audit.append(draft, now=START + timedelta(minutes=i))


def seqs(page: httpx.Response) -> list[int]:
    assert page.status_code == 200, page.text
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', page.text)]


def test_an_auditor_pages_through_the_trail_newest_first(browser: Browser, metadata: SqlMetadataStore) -> None:
    web = browser("ada", ["role:auditor"])
    record(metadata, 70)
    top = seqs(first := web.get("/ui/audit"))
    assert len(top) == 50 and top == sorted(top, reverse=True) and top[0] > 70  # ada's own events come last
    older = re.search(r'href="/ui/audit\?before=(\d+)" rel="next"', first.text)
    assert older and int(older.group(1)) == top[-1]
    rest = seqs(web.get(f"/ui/audit?before={top[-1]}"))
    assert rest == list(range(top[-1] - 1, 0, -1)) and 'rel="next"' not in web.get(f"/ui/audit?before={top[-1]}").text
    assert 'href="/ui/audit">Audit</a>' in first.text  # the menu offers the page to those who may read it


def test_filters_narrow_the_trail_and_are_kept_while_paging(
    browser: Browser, metadata: SqlMetadataStore, services: Services
) -> None:
    web = browser("ada", ["role:auditor"])
    record(metadata, 120)
    trail = list(services.audit.all_events(actor=ADMIN))
    alices = [e.seq for e in reversed(trail) if e.actor == "alice"]
    dev = web.get("/ui/audit?actor=alice&environment=dev&package=shop-api&action=deployment:succeed")
    assert len(alices) == 60 and seqs(dev) == alices[:50]
    link = re.search(r'href="/ui/audit\?([^"]+)" rel="next"', dev.text)
    assert link and "actor=alice" in link.group(1) and "environment=dev" in link.group(1)
    assert seqs(web.get("/ui/audit?" + link.group(1).replace("&amp;", "&"))) == alices[50:]
    assert seqs(web.get("/ui/audit?actor=alice&environment=prod")) == []
    window = web.get("/ui/audit?from=2026-11-26T12:10&to=2026-11-26T12:13&package=shop-api")
    minutes = [e.seq for e in reversed(trail) if "2026-11-26T12:10" <= e.time < "2026-11-26T12:13"]
    assert len(minutes) == 3 and seqs(window) == minutes  # minutes 10, 11 and 12: from included, to excluded
    assert seqs(web.get("/ui/audit?to=2026-11-26")) == []


def test_details_are_escaped(browser: Browser, metadata: SqlMetadataStore) -> None:
    web = browser("ada", ["role:auditor"])
    record(metadata, 1)
    page = web.get("/ui/audit?package=shop-api")
    assert MARKUP not in page.text and str(escape(MARKUP)) in page.text and "<dd>[0]</dd>" in page.text


def test_the_chain_status_and_the_latest_checkpoint(
    browser: Browser, metadata: SqlMetadataStore, services: Services
) -> None:
    web = browser("ada", ["role:auditor"])
    record(metadata, 3)
    assert "none signed yet" in web.get("/ui/audit").text
    services.audit.checkpoint(actor=ADMIN)
    report = services.audit.verify(actor=ADMIN)
    page = web.get("/ui/audit")
    assert '<span class="met">intact</span>' in page.text and report.head in page.text
    assert f"event {report.checked}, <code>{report.head}</code>" in page.text


def test_bad_filters_are_refused_clearly(browser: Browser) -> None:
    web = browser("ada", ["role:auditor"])
    bad_time = web.get("/ui/audit?from=yesterday")
    assert bad_time.status_code == 400 and "is not a date" in bad_time.text
    assert web.get("/ui/audit?before=-1").status_code == 400


def test_who_may_not_read_the_trail_is_refused_as_by_the_api(
    browser: Browser, services: Services, token_for: Callable[..., str], anonymous: httpx.Client
) -> None:
    web = browser("vera", ["role:viewer"])
    assert 'href="/ui/audit"' not in web.get("/ui/").text
    page = web.get("/ui/audit")
    token = token_for("vic", grants=["role:viewer"])
    api = anonymous.get("/api/v1/audit/events", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == api.status_code == 403
    assert str(escape(api.json()["error"]["message"].replace("vic", "vera"))) in page.text
    denied = [e.actor for e in services.audit.all_events(actor=ADMIN) if e.action == "access:denied"]
    assert denied == ["vera", "vic"]
