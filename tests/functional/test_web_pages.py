"""The web UI at /ui: login and logout, the board, the artifact page, and the rules every page keeps
(CSP, CSRF, rights, escaping, no open redirect, lockout shared with the API)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hoist.app import Services
from hoist.client import HoistClient
from hoist.domain.models import Pipeline
from tests.conftest import ADMIN
from tests.functional.helpers import NO_GATES, push
from tests.functional.web_helpers import PASSWORD, Browser, csrf_of, log_in


@pytest.fixture
def config_text() -> str:
    return NO_GATES


CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


def released(client: HoistClient, tmp_path: Path, package: str = "shop-api", version: str = "1.4.0") -> str:
    """A version pushed to dev, deployed there and promoted to prod."""
    ref = f"{package}@{version}"
    push(client, tmp_path, package=package, version=version)
    client.promote(ref, to="prod")
    client.deploy(ref, environment="dev")
    return ref


def test_pages_need_a_session_and_send_browsers_to_log_in_and_back(anonymous: httpx.Client) -> None:
    for path in ("/ui/", "/ui/artifacts/shop-api@1.4.0", "/ui/?q=shop"):
        answer = anonymous.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/ui/login?next=%2Fui%2F")
    assert anonymous.get("/ui").headers["location"] == "/ui/"
    login = anonymous.get("/ui/login?next=/ui/artifacts/x@1")
    assert login.status_code == 200 and 'value="/ui/artifacts/x@1"' in login.text
    browser_root = anonymous.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser_root.status_code == 303 and browser_root.headers["location"] == "/ui/"
    assert anonymous.get("/", headers={"Accept": "application/json"}).json()["name"] == "hoist"


def test_every_answer_carries_the_content_security_policy(anonymous: httpx.Client, browser: Browser) -> None:
    web = browser("vera", ["role:viewer"])
    for answer in (anonymous.get("/ui/login"), anonymous.get("/ui/"), web.get("/ui/"), web.get("/ui/static/hoist.css")):
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in web.get("/ui/").text and "style=" not in web.get("/ui/").text


def test_login_sets_a_session_cookie_and_logout_revokes_it(browser: Browser, services: Services) -> None:
    web = browser("vera", ["role:viewer"], login=False)
    answer = log_in(web, "vera", PASSWORD, next="/ui/?q=shop")
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/?q=shop"
    cookie = answer.headers["set-cookie"]
    assert "hoist_session=hoist_" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/ui" in cookie and "Secure" not in cookie  # plain http here: Secure only over https
    session = web.cookies["hoist_session"]
    board = web.get("/ui/")
    assert board.status_code == 200 and "vera" in board.text
    out = web.post("/ui/logout", data={"csrf": csrf_of(board)})
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert "hoist_session" not in web.cookies
    (token,) = services.tokens.tokens(ADMIN, owner="vera")
    assert token.revoked_at is not None and token.description == "web session"
    replayed = httpx.Client(transport=web._transport, base_url="http://hoist.test", cookies={"hoist_session": session})
    assert replayed.get("/ui/").headers["location"] == "/ui/login"  # the revoked token opens nothing


def test_a_secure_cookie_over_https(browser: Browser) -> None:
    web = browser("vera", ["role:viewer"], login=False)
    answer = log_in(web, "vera", PASSWORD, base="https://hoist.test")
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_is_a_401_page_and_audited(browser: Browser, services: Services) -> None:
    web = browser("vera", ["role:viewer"], login=False)
    answer = log_in(web, "vera", "wrong")
    assert answer.status_code == 401 and 'role="alert"' in answer.text and "hoist_session" not in web.cookies
    failed = [e for e in services.audit.events(actor=ADMIN) if e.action == "auth:failed"]
    assert failed and failed[-1].actor == "vera"


def test_lockout_is_shared_with_the_api(browser: Browser, anonymous: httpx.Client) -> None:
    web = browser("vera", ["role:viewer"], login=False)
    for _ in range(5):
        assert anonymous.get("/api/v1/whoami", auth=("vera", "wrong")).status_code == 401
    locked = log_in(web, "vera", PASSWORD)
    assert locked.status_code == 429 and "hoist_session" not in web.cookies


def test_a_post_without_the_right_csrf_token_is_refused_and_audited(browser: Browser, services: Services) -> None:
    web = browser("vera", ["role:viewer"])
    for data in ({}, {"csrf": "0" * 64}, {"csrf": ""}):
        answer = web.post("/ui/logout", data=data)
        assert answer.status_code == 403 and "CSRF" in answer.text
    denied = [e for e in services.audit.events(actor=ADMIN) if e.action == "access:denied" and e.actor == "vera"]
    assert len(denied) == 3
    assert web.get("/ui/").status_code == 200  # still logged in: nothing was done


def test_no_open_redirect_after_login(browser: Browser) -> None:
    web = browser("vera", ["role:viewer"], login=False)
    for target in ("https://evil.test/", "//evil.test/ui/", "/\\evil.test", "/api/v1/whoami", "javascript:alert(1)"):
        web.cookies.pop("hoist_session", None)  # not logged in: the login form is shown
        answer = log_in(web, "vera", PASSWORD, next=target)
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/", target
    assert web.get("/ui/login?next=https://evil.test/").headers["location"] == "/ui/"


def test_the_board_shows_each_environment_in_policy_order_with_who_and_when(
    browser: Browser, client: HoistClient, tmp_path: Path
) -> None:
    released(client, tmp_path)
    push(client, tmp_path, package="shop-api", version="1.5.0")
    push(client, tmp_path, package="billing", version="2.0.0")
    web = browser("vera", ["role:viewer"])
    board = web.get("/ui/")
    assert board.status_code == 200
    assert board.text.index(">dev <") < board.text.index(">prod <")
    row = board.text[board.text.index("shop-api <span") : board.text.index("</tr>", board.text.index("shop-api <span"))]
    assert "1.5.0</a> placed" in row and "1.4.0</a> runs" in row and "by alice" in row and "1.4.0</a> placed (sealed)" in row
    assert "billing" in board.text
    only = web.get("/ui/", params={"q": "bill"})
    assert "billing" in only.text and "shop-api" not in only.text
    assert "No packages match" in web.get("/ui/", params={"q": "nothing"}).text


def test_a_reader_of_dev_alone_sees_neither_the_prod_column_nor_prod_only_versions(
    browser: Browser, client: HoistClient, tmp_path: Path
) -> None:
    released(client, tmp_path)
    web = browser("dora", ["read:dev"])
    board = web.get("/ui/")
    assert ">dev <" in board.text and ">prod <" not in board.text and "(sealed)" not in board.text
    page = web.get("/ui/artifacts/shop-api@1.4.0")
    assert page.status_code == 200  # in dev too: readable
    nobody = browser("nora", [])
    assert "No packages" in nobody.get("/ui/").text
    refused = nobody.get("/ui/artifacts/shop-api@1.4.0")
    assert refused.status_code == 403 and "shop-api@1.4.0" in refused.text


def test_the_artifact_page_shows_files_registries_evidence_and_timeline(
    browser: Browser, client: HoistClient, tmp_path: Path
) -> None:
    ref = released(client, tmp_path)
    client.attest(ref, type="unit-tests", result="pass")
    web = browser("vera", ["role:viewer"])
    page = web.get(f"/ui/artifacts/{ref}")
    assert page.status_code == 200, page.text
    details = client.artifact(ref)
    assert details["digest"] in page.text and "app.tgz" in page.text and str(details["files"][0]["size"]) in page.text
    assert "<td>prod</td><td>sealed</td>" in page.text and "<td>dev</td><td>not sealed</td>" in page.text
    assert "unit-tests" in page.text and 'class="verdict-pass"' in page.text
    for action in ("artifact:push", "artifact:promote", "deploy"):
        assert action in page.text, action
    assert web.get("/ui/artifacts/shop-api@9.9.9").status_code == 404
    assert web.get("/ui/artifacts/not-a-ref").status_code == 400


def test_markup_in_names_and_attestations_is_escaped(
    browser: Browser, client: HoistClient, http: httpx.Client, tmp_path: Path
) -> None:
    ref = "shop-api@1.0.0"
    push(client, tmp_path, package="shop-api", version="1.0.0")
    ci = HoistClient("http://hoist.test", http=http, pipeline=Pipeline("<script>alert(1)</script>", "7"))
    ci.attest(ref, type="unit-tests", result="pass")
    web = browser("vera", ["role:viewer"])
    page = web.get(f"/ui/artifacts/{ref}")
    assert page.status_code == 200 and "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    board = web.get("/ui/", params={"q": "<script>x</script>"})
    assert "<script>x" not in board.text and "&lt;script&gt;x&lt;/script&gt;" in board.text
