"""The web UI in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser)
against ``hoist serve``: log in, see a version in dev and prod on the board, open its page, log out.
Screenshots of each step are saved in the test's tmp dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from hoist.client import HoistClient
from tests.conftest import missing
from tests.e2e.conftest import Server
from tests.functional.helpers import push

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PASSWORD = "a release manager's passphrase"


def test_log_in_see_the_board_open_the_artifact_and_log_out(server: Server, tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    with HoistClient(server.url, token=server.admin_token) as admin:
        admin.create_user("rita", password=PASSWORD, grants=["role:viewer"])
        push(admin, tmp_path, package="shop-api", version="1.4.0")
        admin.attest("shop-api@1.4.0", type="unit-tests", result="pass")
        admin.promote("shop-api@1.4.0", to="prod")
        admin.deploy("shop-api@1.4.0", environment="dev")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/")  # a browser at the root is sent to the UI, then to log in
            expect(page).to_have_title("Log in · Hoist")
            page.get_by_label("Username").fill("rita")
            page.get_by_label("Password").fill(PASSWORD)
            page.screenshot(path=shots / "1-login.png", full_page=True)
            page.get_by_role("button", name="Log in").click()
            board(page, shots)
            page.get_by_role("link", name="1.4.0").first.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("shop-api")
            expect(page.get_by_role("cell", name="sealed", exact=True)).to_be_visible()
            expect(page.locator(".timeline")).to_contain_text("artifact:promote")
            page.screenshot(path=shots / "3-artifact.png", full_page=True)
            page.get_by_role("button", name="Log out").click()
            expect(page).to_have_title("Log in · Hoist")
            page.goto(f"{server.url}/ui/")
            expect(page).to_have_title("Log in · Hoist")  # the session is gone
            page.screenshot(path=shots / "4-logged-out.png", full_page=True)
        finally:
            browser.close()
    assert sorted(s.name for s in shots.iterdir()) == ["1-login.png", "2-board.png", "3-artifact.png", "4-logged-out.png"]


def board(page: Page, shots: Path) -> None:
    expect(page).to_have_title("Board · Hoist")
    row = page.get_by_role("row").filter(has_text="shop-api")
    expect(row.get_by_role("cell").first).to_contain_text("1.4.0 runs")  # dev: deployed
    expect(row.get_by_role("cell").last).to_contain_text("1.4.0 placed (sealed)")  # prod: promoted
    page.screenshot(path=shots / "2-board.png", full_page=True)
