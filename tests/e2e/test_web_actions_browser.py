"""The release story in a real browser (Debian's Chromium driven by Playwright) against ``hoist serve``,
as the people who do it: the approver approves 1.5.0 for prod with a comment; the operator promotes it
to prod, deploys it to preprod and then prod, each after its confirmation page; then rolls prod back to
1.4.0 with one click after the confirmation, partly by keyboard. CI's part (pushes, attestations) goes
through the API. Screenshots of each step are saved in the test's tmp dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hoist.client import HoistClient
from tests.conftest import missing
from tests.e2e.conftest import Server
from tests.e2e.test_web_browser import ARGS, CHROMIUM, PASSWORD
from tests.functional.helpers import push

pytestmark = pytest.mark.slow


def test_approve_promote_deploy_and_roll_back_in_the_browser(server: Server, tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    with HoistClient(server.url, token=server.admin_token) as ci:
        ci.create_user("abe", password=PASSWORD, grants=["role:approver"])
        ci.create_user("otto", password=PASSWORD, grants=["role:operator", "role:release"])
        with HoistClient(server.url, token=ci.create_token("abe")["token"]) as abe:
            for version in ("1.4.0", "1.5.0"):
                ref = f"shop-api@{version}"
                push(ci, tmp_path, version=version, content=version.encode())
                ci.attest(ref, type="unit-tests", result="pass")
                ci.deploy(ref, environment="dev")
                ci.deploy(ref, environment="uat")
                if version == "1.4.0":  # already released: it runs in prod
                    ci.promote(ref, to="prod")
                    ci.deploy(ref, environment="preprod")
                    ci.attest(ref, type="acceptance", result="pass", environment="preprod")
                    abe.approve(ref, environment="prod")
                    ci.deploy(ref, environment="prod")
        shots = tmp_path / "screenshots"
        shots.mkdir()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                approve(browser, server, shots)
                operator = log_in(browser, server, "otto")
                promote_and_deploy(operator, shots, "preprod")
                ci.attest("shop-api@1.5.0", type="acceptance", result="pass", environment="preprod")
                promote_and_deploy(operator, shots, "prod")
                roll_back(operator, shots)
            finally:
                browser.close()
        assert [d["version"] for d in ci.status("prod")] == ["1.4.0"]
    assert len(list(shots.iterdir())) == 9


def log_in(browser: Browser, server: Server, name: str) -> Page:
    page = browser.new_page()
    page.goto(f"{server.url}/ui/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_title("Board · Hoist")
    return page


def approve(browser: Browser, server: Server, shots: Path) -> None:
    page = log_in(browser, server, "abe")
    page.goto(f"{server.url}/ui/artifacts/shop-api%401.5.0")
    page.get_by_role("link", name="Approve").click()
    expect(page.get_by_label("Environment")).to_have_value("prod")
    page.get_by_label("Comment").fill("acceptance <b>signed off</b>")
    page.screenshot(path=shots / "1-approve.png", full_page=True)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("shop-api")
    expect(page.get_by_role("cell", name="acceptance <b>signed off</b>")).to_be_visible()  # shown as text
    page.screenshot(path=shots / "2-approved.png", full_page=True)
    page.close()


def promote_and_deploy(page: Page, shots: Path, environment: str) -> None:
    page.get_by_role("link", name="Board", exact=True).click()
    if environment == "preprod":
        page.get_by_role("link", name="Promote 1.5.0 to prod").click()
        expect(page.get_by_role("row", name="attestation:unit-tests met")).to_be_visible()
        page.screenshot(path=shots / "3-promote.png", full_page=True)
        page.get_by_role("button", name="Promote to prod").click()
        expect(page.get_by_role("cell", name="sealed", exact=True).first).to_be_visible()
        page.get_by_role("link", name="Board", exact=True).click()
    page.get_by_role("link", name=f"Deploy 1.5.0 to {environment}").click()
    expect(page.get_by_text(f"Every gate of {environment} is met.")).to_be_visible()
    page.screenshot(path=shots / f"{'4' if environment == 'preprod' else '5'}-deploy-{environment}.png", full_page=True)
    page.get_by_role("button", name=f"Record deployment to {environment}").click()
    expect(page.locator(".timeline")).to_contain_text(f"deployment:succeed by otto in {environment}")


def roll_back(page: Page, shots: Path) -> None:
    page.get_by_role("link", name="Board", exact=True).click()
    prod = page.get_by_role("row").filter(has_text="shop-api").get_by_role("cell").last
    expect(prod).to_contain_text("1.5.0 runs")
    page.screenshot(path=shots / "6-board.png", full_page=True)
    page.get_by_role("link", name="Roll back prod").click()
    expect(page.get_by_text("1.5.0 is held back from prod")).to_be_visible()
    expect(page.get_by_text("present, intact")).to_be_visible()
    page.screenshot(path=shots / "7-rollback.png", full_page=True)
    page.get_by_label("Reason (for the audit trail)").fill("errors after the release")
    page.keyboard.press("Tab")  # keyboard reachable: the next control is the button
    expect(page.get_by_role("button", name="Roll back to 1.4.0")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("1.4.0")
    page.screenshot(path=shots / "8-rolled-back.png", full_page=True)
    page.get_by_role("link", name="Board", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="shop-api").get_by_role("cell").last).to_contain_text("1.5.0 held back")
    page.screenshot(path=shots / "9-held-back.png", full_page=True)
