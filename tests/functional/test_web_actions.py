"""The web UI's actions (promote, approve, record a deployment, roll back): a confirmation page that
shows what will happen, a CSRF-checked POST through the same services as the API with the logged-in
user's rights, a 303 to the artifact; refusals with the API's message and status, changing nothing,
every denial audited. And the board's gates for the next environment, in a bounded number of queries.
Under the built-in policy: dev → uat (registry dev) → preprod → prod (registry prod, which takes
promotions with a unit-tests attestation; prod needs an acceptance attestation and an approval)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import event

from hoist.app import Services
from hoist.client import HoistClient
from hoist.domain.errors import DeploymentRefused, PromotionRefused
from tests.conftest import ADMIN
from tests.functional.helpers import push
from tests.functional.web_helpers import Browser, csrf_of

REF = "shop-api@1.4.0"
PAGE = "/ui/artifacts/shop-api%401.4.0"


def in_uat(client: HoistClient, tmp_path: Path, version: str = "1.4.0", *, tested: bool = True) -> str:
    """A version pushed by alice (CI), deployed to dev and uat; with a passing unit-tests attestation."""
    ref = f"shop-api@{version}"
    push(client, tmp_path, version=version, content=version.encode())
    if tested:
        client.attest(ref, type="unit-tests", result="pass")
    client.deploy(ref, environment="dev")
    client.deploy(ref, environment="uat")
    return ref


def denials(services: Services, who: str) -> int:
    return sum(1 for e in services.audit.all_events(actor=ADMIN) if e.action == "access:denied" and e.actor == who)


def registries(client: HoistClient, ref: str) -> set[str]:
    return {p["registry"] for p in client.artifact(ref)["placements"]}


def test_promote_shows_each_gate_of_the_dry_run_then_promotes(browser: Browser, client: HoistClient, tmp_path: Path) -> None:
    in_uat(client, tmp_path)
    web = browser("rhea", ["role:release"])
    page = web.get(f"/ui/promote/{REF}")
    assert page.status_code == 200, page.text
    for gate in ("source", "ceiling", "attestation:unit-tests"):
        assert f'<td>{gate}</td><td class="met">met</td>' in page.text, gate
    assert 'name="to" value="prod"' in page.text and "disabled" not in page.text
    assert registries(client, REF) == {"dev"}  # the dry run changed nothing
    done = web.post(f"/ui/promote/{REF}", data={"csrf": csrf_of(page), "to": "prod", "reason": "release <b>4</b>"})
    assert done.status_code == 303 and done.headers["location"] == PAGE
    assert registries(client, REF) == {"dev", "prod"}
    artifact = web.get(done.headers["location"])
    assert "<td>prod</td><td>sealed</td>" in artifact.text and "artifact:promote" in artifact.text


def test_an_unmet_gate_disables_the_button_and_a_promotion_anyway_is_refused_as_by_the_api(
    browser: Browser, client: HoistClient, tmp_path: Path, services: Services
) -> None:
    in_uat(client, tmp_path, tested=False)
    web = browser("rhea", ["role:release"])
    page = web.get(f"/ui/promote/{REF}")
    assert page.status_code == 200
    assert (
        '<td>attestation:unit-tests</td><td class="unmet">unmet</td><td>no unit-tests attestation for shop-api@1.4.0'
        in page.text
    )
    assert '<td>source</td><td class="met">met</td>' in page.text
    assert "disabled>Promote to prod</button>" in page.text
    refused = web.post(f"/ui/promote/{REF}", data={"csrf": csrf_of(page), "to": "prod"})
    with pytest.raises(PromotionRefused) as api:
        client.promote(REF, to="prod")
    assert refused.status_code == 409 and str(escape(api.value.message)) in refused.text
    assert registries(client, REF) == {"dev"}
    refusals = [e for e in services.audit.all_events(actor=ADMIN) if e.action == "artifact:promote-refused"]
    assert [e.actor for e in refusals] == ["rhea", "alice"]  # refused and recorded like any refusal


def test_approve_with_a_comment_whose_markup_is_escaped(browser: Browser, client: HoistClient, tmp_path: Path) -> None:
    in_uat(client, tmp_path)
    client.promote(REF, to="prod")
    web = browser("abe", ["role:approver"])
    page = web.get(f"/ui/approve/{REF}")
    assert page.status_code == 200 and '<option value="prod" selected>' in page.text  # where approvals count
    assert "prod needs 1 approval(s)" in page.text
    comment = "<script>alert('x')</script> looks good"
    done = web.post(f"/ui/approve/{REF}", data={"csrf": csrf_of(page), "environment": "prod", "comment": comment})
    assert done.status_code == 303 and done.headers["location"] == PAGE
    (approval,) = [a for a in client.artifact(REF)["attachments"] if a["kind"] == "approval"]
    assert approval["actor"] == "abe" and approval["environment"] == "prod"
    artifact = web.get(PAGE)
    assert "<script>alert" not in artifact.text and str(escape(comment)) in artifact.text


def test_record_a_deployment_after_its_gate_check(browser: Browser, client: HoistClient, tmp_path: Path) -> None:
    in_uat(client, tmp_path)
    client.promote(REF, to="prod")
    web = browser("otto", ["role:operator"])
    page = web.get(f"/ui/deploy/{REF}?environment=preprod")
    assert page.status_code == 200 and "Every gate of preprod is met." in page.text
    done = web.post(f"/ui/deploy/{REF}", data={"csrf": csrf_of(page), "environment": "preprod"})
    assert done.status_code == 303 and done.headers["location"] == PAGE
    assert {(d["environment"], d["version"]) for d in client.status()} >= {("preprod", "1.4.0")}
    prod = web.get(f"/ui/deploy/{REF}?environment=prod")
    assert '<span class="gate">approvals</span>' in prod.text and "disabled>Record deployment to prod" in prod.text
    refused = web.post(f"/ui/deploy/{REF}", data={"csrf": csrf_of(prod), "environment": "prod"})
    with pytest.raises(DeploymentRefused) as api:
        client.deploy(REF, environment="prod")
    assert refused.status_code == 409 and str(escape(api.value.message)) in refused.text
    assert "prod" not in {d["environment"] for d in client.status()}


def test_roll_back_shows_target_verification_and_what_is_held_back(
    browser: Browser, client: HoistClient, tmp_path: Path
) -> None:
    in_uat(client, tmp_path)
    in_uat(client, tmp_path, "1.5.0")
    web = browser("dev", ["role:developer"])
    page = web.get("/ui/rollback/shop-api?environment=uat")
    assert page.status_code == 200, page.text
    assert "<dt>Runs now</dt><dd>1.5.0" in page.text and "<strong>1.4.0</strong>" in page.text
    assert "present, intact (every blob re-hashed) and passes the gates of uat" in page.text
    assert "1.5.0 is held back from uat" in page.text
    assert [d["version"] for d in client.status("uat")] == ["1.5.0"]  # the dry run changed nothing
    done = web.post("/ui/rollback/shop-api", data={"csrf": csrf_of(page), "environment": "uat", "reason": "500s"})
    assert done.status_code == 303 and done.headers["location"] == PAGE
    assert [d["version"] for d in client.status("uat")] == ["1.4.0"]
    board = web.get("/ui/")
    assert '<div class="held">1.5.0 held back</div>' in board.text
    again = web.get("/ui/rollback/shop-api?environment=uat")
    assert again.status_code == 404 and "no earlier successful deployment in uat" in again.text


def test_a_rollback_target_that_fails_its_gates_is_shown_and_refused_as_by_the_api(
    browser: Browser, client: HoistClient, tmp_path: Path
) -> None:
    in_uat(client, tmp_path, "1.5.0")
    push(client, tmp_path, version="1.3.0", content=b"never ran in dev")
    web = browser("dev", ["role:developer"])
    page = web.get("/ui/rollback/shop-api?environment=uat&to=1.3.0")
    assert page.status_code == 200
    assert "rollback of shop-api@1.3.0 to uat would be refused" in page.text
    assert '<span class="gate">previous-environment</span>' in page.text and "disabled>Roll back" in page.text
    form = {"csrf": csrf_of(page), "environment": "uat", "to": "1.3.0"}
    refused = web.post("/ui/rollback/shop-api", data=form)
    with pytest.raises(DeploymentRefused) as api:
        client.rollback("shop-api", environment="uat", to="1.3.0")
    assert refused.status_code == 409 and str(escape(api.value.message)) in refused.text
    assert [d["version"] for d in client.status("uat")] == ["1.5.0"]
    assert web.get("/ui/rollback/shop-api?environment=uat&to=9.9.9").status_code == 404  # as the API says


ACTIONS = [
    ("promote", f"/ui/promote/{REF}", {"to": "prod"}),
    ("approve", f"/ui/approve/{REF}", {"environment": "prod", "comment": "ok"}),
    ("deploy", f"/ui/deploy/{REF}", {"environment": "preprod"}),
    ("rollback", "/ui/rollback/shop-api", {"environment": "uat"}),
]


@pytest.fixture
def staged(client: HoistClient, tmp_path: Path) -> None:
    """Two versions in uat, the newer one promoted too: every action has something to act on."""
    in_uat(client, tmp_path)
    in_uat(client, tmp_path, "1.5.0")
    client.promote("shop-api@1.5.0", to="prod")


@pytest.mark.parametrize(("action", "path", "form"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_a_post_without_the_session_csrf_token_is_refused_audited_and_changes_nothing(
    action: str, path: str, form: dict[str, str], staged: None, browser: Browser, client: HoistClient, services: Services
) -> None:
    web = browser("ada", ["role:release", "role:approver", "role:operator", "role:developer"])  # may do each
    before = (registries(client, REF), client.status(), client.artifact(REF)["attachments"])
    for token in ({}, {"csrf": "0" * 64}):
        answer = web.post(path, data={**form, **token})
        assert answer.status_code == 403 and "CSRF" in answer.text, action
    assert denials(services, "ada") == 2
    assert (registries(client, REF), client.status(), client.artifact(REF)["attachments"]) == before


@pytest.mark.parametrize(("action", "path", "form"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_without_the_right_a_403_page_nothing_changed_audited_and_no_button(
    action: str, path: str, form: dict[str, str], staged: None, browser: Browser, client: HoistClient, services: Services
) -> None:
    web = browser("vera", ["role:viewer"])
    board = web.get("/ui/")
    artifact = web.get(PAGE)
    for page in (board, artifact):
        assert f"/ui/{action}/" not in page.text  # no link to what vera may not do
    before = (registries(client, REF), client.status(), client.artifact(REF)["attachments"])
    query = "?" + "&".join(f"{k}={v}" for k, v in form.items() if k != "comment")
    shown = web.get(path + query)
    assert shown.status_code == 403 and "vera may not" in shown.text, shown.text
    assert '<span class="who">vera</span>' in shown.text  # still her page: the board and log out at hand
    done = web.post(path, data={**form, "csrf": csrf_of(board)})
    assert done.status_code == 403 and "vera may not" in done.text
    assert denials(services, "vera") == 2
    assert (registries(client, REF), client.status(), client.artifact(REF)["attachments"]) == before


def test_links_to_actions_only_for_those_who_hold_the_right(staged: None, browser: Browser, client: HoistClient) -> None:
    release = browser("rhea", ["role:release"]).get("/ui/")
    assert "/ui/promote/" not in release.text  # 1.5.0 is in prod already; 1.4.0 is not the next one
    operator = browser("otto", ["role:operator"]).get("/ui/")
    assert '/ui/deploy/shop-api%401.5.0?environment=preprod">Deploy 1.5.0 to preprod' in operator.text
    assert "/ui/rollback/" not in operator.text  # nothing runs in preprod or prod yet
    developer = browser("dev", ["role:developer"])
    board = developer.get("/ui/")
    assert '/ui/rollback/shop-api?environment=uat">Roll back uat' in board.text
    assert "/ui/deploy/" not in board.text  # dev and uat run 1.5.0 already
    page = developer.get("/ui/artifacts/shop-api@1.5.0")
    assert '/ui/rollback/shop-api?environment=uat">Roll back shop-api in uat' in page.text
    assert '<a href="/ui/approve/shop-api%401.5.0">Approve</a>' in page.text  # approve@dev, approve@uat
    assert "/ui/promote/" not in page.text


def test_the_board_shows_the_next_environment_s_unmet_gates(browser: Browser, client: HoistClient, tmp_path: Path) -> None:
    in_uat(client, tmp_path, tested=False)
    web = browser("rhea", ["role:release"])
    board = web.get("/ui/")
    cells = board.text.split("<td>")
    preprod = next(c for c in cells if "next: 1.4.0" in c and "attestation:unit-tests" in c)
    assert "no unit-tests attestation for shop-api@1.4.0" in preprod
    assert '/ui/promote/shop-api%401.4.0?to=prod">Promote 1.4.0 to prod' in preprod
    client.attest(REF, type="unit-tests", result="pass")
    client.promote(REF, to="prod")
    client.deploy(REF, environment="preprod")
    prod = web.get("/ui/").text.split("<td>")[-1]
    assert "next: 1.4.0" in prod and '<span class="gate">attestation:acceptance</span>' in prod
    assert '<span class="gate">approvals</span>' in prod


@contextmanager
def counted(services: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(services.metadata.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(services.metadata.engine, "before_cursor_execute", count)


VULNERABILITY_GATE = """
[registries.dev]
direct_push = true

[registries.prod]
direct_push = false
promote_from = ["dev"]
max_severity = "high"
"""


@pytest.mark.parametrize("config_text", ["", VULNERABILITY_GATE], ids=["built-in", "vulnerability-gate"])
def test_the_board_reads_the_same_number_of_times_for_one_package_or_many(
    browser: Browser, client: HoistClient, services: Services, tmp_path: Path, config_text: str
) -> None:
    web = browser("vera", ["role:viewer"])

    def board_reads() -> list[str]:
        with counted(services) as statements:
            assert web.get("/ui/?q=app").status_code == 200
        return statements

    def package(name: str) -> None:
        ref = f"{name}@1.0.0"
        push(client, tmp_path, package=name, version="1.0.0", content=name.encode())
        client.attest(ref, type="unit-tests", result="pass")
        client.deploy(ref, environment="dev")
        client.deploy(ref, environment="uat")

    package("app-0")
    board_reads()  # the first request of a session also looks its token up: not the board's doing
    one = board_reads()
    for i in range(1, 6):
        package(f"app-{i}")
    many = web.get("/ui/?q=app")
    assert many.text.count("next: 1.0.0") == 6  # each package's next step (preprod), gates and all
    assert any("FROM sboms" in s for s in one) == bool(config_text)  # the SBOM index only when it gates
    assert len(board_reads()) == len(one)


def test_a_login_without_the_form_s_token_is_refused_and_audited(
    browser: Browser, anonymous: httpx.Client, services: Services
) -> None:
    web = browser("vera", ["role:viewer"], login=False)
    form = web.get("/ui/login")
    forged = {"username": "vera", "password": "correct horse battery staple"}
    for data in (forged, {**forged, "csrf": "0" * 64}):
        answer = web.post("/ui/login", data=data)
        assert answer.status_code == 403 and "came from another site" in answer.text
        assert "hoist_session" not in web.cookies
    other_site = anonymous.post("/ui/login", data={**forged, "csrf": csrf_of(form)})  # a token without its cookie
    assert other_site.status_code == 403 and "hoist_session" not in anonymous.cookies
    refused = [e for e in services.audit.all_events(actor=ADMIN) if e.action == "access:denied"]
    assert len(refused) == 3 and all("CSRF" in str(e.details["asked"]) for e in refused)
    cookie = form.headers["set-cookie"]
    assert "hoist_login=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
