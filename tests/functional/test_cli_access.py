"""hoist login, logout, whoami, token, user, team and access against the in-process app.

Each command runs with a fresh ``Cli`` whose client presents what the command line, HOIST_TOKEN or
the credentials file (HOIST_CONFIG_DIR, a temporary folder here) say, as a real invocation does.
Every output is kept, to check at the end that no secret was ever printed but by ``token create``.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from hoist.cli.context import Cli, credentials_file, saved_token
from hoist.cli.exits import NOT_FOUND, REFUSED, UNAUTHENTICATED, USAGE
from hoist.cli.main import cli
from hoist.client import DEFAULT_URL, HoistClient

PASSWORD = "correct horse battery staple"
SECRET = re.compile(r"hoist_[A-Za-z0-9_-]{20,}")


class _Shared(httpx.BaseTransport):
    """The test's one app, without letting a command's client close it for the others."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)


@dataclass
class InProcessCli(Cli):
    """A ``Cli`` whose client talks to the in-process app with the credential the CLI chose."""

    transport: httpx.BaseTransport | None = None
    opened: list[httpx.Client] = field(default_factory=list)

    def client(self) -> HoistClient:
        if self._client is None:
            assert self.transport is not None
            http = httpx.Client(transport=_Shared(self.transport), base_url="http://hoist.test")
            self.opened.append(http)
            self._client = HoistClient(self.url, token=self.credential(), http=http)
        return self._client


@dataclass
class Runs:
    """Every invocation of the test, with what it printed."""

    results: list[tuple[tuple[str, ...], Result]] = field(default_factory=list)

    def printed(self, *, but: Callable[[tuple[str, ...]], bool] = lambda _args: False) -> str:
        return "\n".join(r.output + r.stderr for args, r in self.results if not but(args))


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("HOIST_CONFIG_DIR", str(folder))
    monkeypatch.delenv("HOIST_TOKEN", raising=False)
    monkeypatch.delenv("HOIST_URL", raising=False)
    return folder


@pytest.fixture
def runs() -> Runs:
    return Runs()


@pytest.fixture
def hoist(transport: httpx.BaseTransport, config_dir: Path, runs: Runs) -> Iterator[Callable[..., Result]]:
    clis: list[InProcessCli] = []

    def run(*args: str, input: str | None = None) -> Result:
        obj = InProcessCli(progress=False, transport=transport)
        clis.append(obj)
        result = CliRunner().invoke(cli, list(args), obj=obj, input=input, catch_exceptions=False)
        runs.results.append((args, result))
        return result

    yield run
    for c in clis:
        for http in c.opened:
            http.close()


@pytest.fixture
def admin(hoist: Callable[..., Result], admin_token: str) -> Callable[..., Result]:
    """Commands run by the bootstrap administrator, presenting its token with --token."""

    def run(*args: str, input: str | None = None) -> Result:
        return hoist("--token", admin_token, *args, input=input)

    return run


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output + result.stderr
    return result


def _is_token_create(args: tuple[str, ...]) -> bool:
    return "token" in args and "create" in args


def test_login_with_a_password_then_whoami_from_the_credentials_file(hoist, admin, runs: Runs, admin_token: str) -> None:  # type: ignore[no-untyped-def]
    _ok(admin("user", "create", "carol", "--password-stdin", "--role", "developer", input=PASSWORD + "\n"))
    assert hoist("whoami", "--json").exit_code == 0  # anonymous until logged in
    assert json.loads(runs.results[-1][1].stdout)["authenticated"] is False

    logged = _ok(hoist("login", "--username", "carol", "--password-stdin", input=PASSWORD + "\n"))
    token = saved_token(DEFAULT_URL)
    assert token is not None and token.startswith("hoist_")
    match = re.search(r"Logged in to (\S+) as carol \(token ([0-9a-f]+), expires (\d{4}-\d\d-\d\d)\)", logged.output)
    assert match is not None, logged.output
    assert match.group(1) == DEFAULT_URL
    assert str(credentials_file()) in logged.output
    assert stat.S_IMODE(credentials_file().stat().st_mode) == 0o600

    me = json.loads(_ok(hoist("whoami", "--json")).stdout)
    assert me["name"] == "carol" and me["kind"] == "user" and me["credential"] == f"token:{match.group(2)}"
    assert {"read:dev", "push:dev", "deploy@uat"} <= set(me["permissions"]) and "push:prod" not in me["permissions"]
    human = _ok(hoist("whoami")).output
    assert "carol (user) with token:" in human and "push:dev" in human

    mine = json.loads(_ok(hoist("token", "list", "--json")).stdout)
    assert [(t["id"], t["owner"], t["state"]) for t in mine] == [(match.group(2), "carol", "active")]
    assert mine[0]["description"].startswith("hoist login on ")

    again = json.loads(_ok(hoist("login", "-u", "carol", "--password-stdin", "--json", input=PASSWORD)).stdout)
    assert set(again) == {"url", "name", "token_id", "expires_at", "credentials_file"}
    assert again["name"] == "carol" and again["credentials_file"] == str(credentials_file())
    second = saved_token(DEFAULT_URL)
    assert second is not None and second != token

    out = _ok(hoist("logout", "--revoke"))
    assert f"token {again['token_id']} is revoked" in out.output
    assert saved_token(DEFAULT_URL) is None
    assert hoist("--token", second, "whoami").exit_code == UNAUTHENTICATED
    assert hoist("--token", token, "whoami").exit_code == 0  # the first login's token still works
    assert "not logged in" in _ok(hoist("logout")).output

    # the bootstrap administrator sets its own password (no current one to give), then logs in with it
    _ok(admin("user", "passwd", "--password-stdin", input=PASSWORD))
    assert "as admin" in _ok(hoist("login", "-u", "admin", input=PASSWORD + "\n")).output
    assert json.loads(_ok(hoist("whoami", "--json")).stdout)["name"] == "admin"

    printed = runs.printed()
    assert PASSWORD not in printed and admin_token not in printed and token not in printed
    assert SECRET.search(printed) is None


def test_login_with_a_token(hoist, admin, runs: Runs) -> None:  # type: ignore[no-untyped-def]
    _ok(admin("user", "create", "ci-shop", "--robot", "--role", "ci"))
    made = json.loads(_ok(admin("token", "create", "--user", "ci-shop", "--json")).stdout)
    secret = made["token"]

    logged = _ok(hoist("login", "--token-stdin", input=secret + "\n"))
    assert f"Logged in to {DEFAULT_URL} as ci-shop (token {made['id']}, expires {made['expires_at'][:10]})" in logged.output
    assert saved_token(DEFAULT_URL) == secret
    assert json.loads(_ok(hoist("whoami", "--json")).stdout)["kind"] == "robot"

    prompted = _ok(hoist("login", "--json", input=secret + "\n"))  # "Token or password", hidden
    assert json.loads(prompted.stdout)["token_id"] == made["id"]
    assert "Logged out" in _ok(hoist("logout")).output  # forgets, without revoking
    assert saved_token(DEFAULT_URL) is None
    assert "as ci-shop" in _ok(hoist("login", "--token", secret)).output
    assert saved_token(DEFAULT_URL) == secret

    assert hoist("login", "--token-stdin", input="hoist_" + "x" * 43).exit_code == UNAUTHENTICATED
    assert saved_token(DEFAULT_URL) == secret  # a refused login keeps what was there

    assert hoist("login", "--token-stdin", "--password-stdin").exit_code == USAGE
    assert hoist("login", "--password-stdin", input="x").exit_code == USAGE
    assert SECRET.search(runs.printed(but=_is_token_create)) is None


def test_a_wrong_password_is_exit_8_and_saves_nothing(hoist, admin) -> None:  # type: ignore[no-untyped-def]
    _ok(admin("user", "create", "carol", "--password-stdin", input=PASSWORD))
    wrong = hoist("login", "-u", "carol", "--password-stdin", input="not the password at all")
    assert wrong.exit_code == UNAUTHENTICATED
    assert "not the password" not in wrong.output + wrong.stderr
    assert not credentials_file().exists()
    unknown = hoist("--json", "login", "-u", "nobody", "--password-stdin", input=PASSWORD)
    assert unknown.exit_code == UNAUTHENTICATED
    assert json.loads(unknown.stdout)["error"]["code"] == "UNAUTHORIZED"
    assert not credentials_file().exists()


def test_token_create_list_revoke(hoist, admin, runs: Runs) -> None:  # type: ignore[no-untyped-def]
    _ok(admin("user", "create", "dana", "--role", "developer"))
    created = _ok(admin("token", "create", "--user", "dana", "-d", "CI of [shop]", "--scope", "ci", "--expires", "30d"))
    secrets_shown = SECRET.findall(created.stdout)
    assert len(secrets_shown) == 1, created.output
    secret = secrets_shown[0]
    assert "only time the token is shown" in created.stderr
    token_id = re.search(r"created token ([0-9a-f]+) for dana", created.stdout)
    assert token_id is not None and "scope role:ci" in created.stdout

    me = json.loads(_ok(hoist("--token", secret, "whoami", "--json")).stdout)
    assert me["name"] == "dana" and "delete:dev" not in me["permissions"] and "push:dev" in me["permissions"]

    listed = _ok(admin("token", "list", "--user", "dana")).output
    assert token_id.group(1) in listed and "CI of [shop]" in listed and "role:ci" in listed and "active" in listed
    every = json.loads(_ok(admin("token", "list", "--all", "--json")).stdout)
    assert {t["owner"] for t in every} >= {"admin", "dana"}
    assert all("token" not in t for t in every)
    assert secret not in json.dumps(every)
    assert json.loads(_ok(hoist("--token", secret, "token", "list", "--json")).stdout)[0]["id"] == token_id.group(1)
    assert hoist("--token", secret, "token", "list", "--all").exit_code == REFUSED

    forever = json.loads(_ok(hoist("--token", secret, "token", "create", "--expires", "never", "--json")).stdout)
    assert forever["owner"] == "dana" and forever["expires_at"] is None and forever["token"].startswith("hoist_")
    assert hoist("--token", secret, "token", "create", "--expires", "soon").exit_code == USAGE
    assert hoist("--token", secret, "token", "create", "--expires", "0").exit_code == USAGE

    revoked = _ok(admin("token", "revoke", token_id.group(1)))
    assert f"revoked token {token_id.group(1)} of dana" in revoked.output
    assert "revoked" in _ok(admin("token", "list", "--user", "dana")).output
    refused = hoist("--token", secret, "whoami")
    assert refused.exit_code == UNAUTHENTICATED and "revoked" in refused.output
    assert admin("token", "revoke", "ffffffffffff").exit_code == NOT_FOUND
    assert SECRET.search(runs.printed(but=_is_token_create)) is None


def test_users_create_list_show_disable(hoist, admin, runs: Runs) -> None:  # type: ignore[no-untyped-def]
    made = json.loads(
        _ok(admin("user", "create", "bob", "--role", "developer", "--grant", "deploy@preprod", "--json")).stdout
    )
    assert made["grants"] == ["deploy@preprod", "role:developer"] and made["password"] is False
    robot = _ok(admin("user", "create", "builder", "--robot", "--role", "ci")).output
    assert "created robot builder with role:ci" in robot and "hoist token create --user builder" in robot

    table = _ok(admin("user", "list")).output
    assert re.search(r"bob\s+user\s+active\s+no\s+-\s+deploy@preprod, role:developer", table), table
    assert re.search(r"builder\s+robot\s+active", table)
    shown = _ok(admin("user", "show", "bob")).output
    assert "push:dev" in shown and "deploy@preprod" in shown and "by admin" in shown

    bob = json.loads(_ok(admin("token", "create", "--user", "bob", "--json")).stdout)["token"]
    assert _ok(hoist("--token", bob, "user", "show", "bob")).exit_code == 0  # yourself
    assert hoist("--token", bob, "user", "list").exit_code == REFUSED
    assert hoist("user", "list").exit_code == UNAUTHENTICATED  # anonymous

    assert "disabled user bob" in _ok(admin("user", "disable", "bob")).output
    assert hoist("--token", bob, "whoami").exit_code == UNAUTHENTICATED
    assert json.loads(_ok(admin("user", "show", "bob", "--json")).stdout)["disabled"] is True
    assert "enabled user bob" in _ok(admin("user", "enable", "bob")).output
    assert json.loads(_ok(hoist("--token", bob, "whoami", "--json")).stdout)["name"] == "bob"

    assert admin("user", "create", "Bad Name").exit_code == USAGE
    assert admin("user", "create", "r2", "--robot", "--password-stdin", input=PASSWORD).exit_code == USAGE
    assert admin("user", "create", "eve", "--role", "superuser").exit_code == USAGE
    assert admin("user", "disable", "nobody").exit_code == NOT_FOUND
    assert SECRET.search(runs.printed(but=_is_token_create)) is None


def test_passwd_for_yourself_asks_the_current_password(hoist, admin) -> None:  # type: ignore[no-untyped-def]
    _ok(admin("user", "create", "carol", "--password-stdin", input=PASSWORD))
    _ok(hoist("login", "-u", "carol", "--password-stdin", input=PASSWORD))
    new = "an even better passphrase"
    wrong = hoist("user", "passwd", input=f"wrong current pw\n{new}\n{new}\n")
    assert wrong.exit_code == UNAUTHENTICATED
    changed = _ok(hoist("user", "passwd", input=f"{PASSWORD}\n{new}\n{new}\n"))
    assert "changed the password of carol" in changed.output
    assert new not in changed.output and PASSWORD not in changed.output
    assert hoist("login", "-u", "carol", "--password-stdin", input=PASSWORD).exit_code == UNAUTHENTICATED
    _ok(hoist("login", "-u", "carol", "--password-stdin", input=new))
    _ok(admin("user", "passwd", "carol", "--password-stdin", input=PASSWORD))  # an admin needs no current one
    _ok(hoist("login", "-u", "carol", "--password-stdin", input=PASSWORD))
    assert admin("user", "passwd", "carol", "--password-stdin", input="short").exit_code == USAGE


def test_teams_create_add_remove_delete(admin, runs: Runs) -> None:  # type: ignore[no-untyped-def]
    _ok(admin("user", "create", "bob"))
    assert "no teams" in _ok(admin("team", "list")).output
    created = _ok(admin("team", "create", "web", "--role", "developer", "--grant", "deploy@preprod")).output
    assert "created team web with deploy@preprod, role:developer" in created
    assert "added bob to team web" in _ok(admin("team", "add", "web", "bob")).output
    assert "bob is already in team web" in _ok(admin("team", "add", "web", "bob")).output
    assert re.search(r"web\s+bob\s+deploy@preprod, role:developer", _ok(admin("team", "list")).output)
    bob = json.loads(_ok(admin("user", "show", "bob", "--json")).stdout)
    assert bob["teams"] == ["web"] and "push:dev" in bob["permissions"]
    assert json.loads(_ok(admin("team", "remove", "web", "bob", "--json")).stdout)["changed"] is True
    assert "bob is not in team web" in _ok(admin("team", "remove", "web", "bob")).output
    assert json.loads(_ok(admin("team", "list", "--json")).stdout)[0]["members"] == []
    assert admin("team", "add", "web", "nobody").exit_code == NOT_FOUND
    assert "deleted team web" in _ok(admin("team", "delete", "web")).output
    assert admin("team", "delete", "web").exit_code == NOT_FOUND
    assert SECRET.search(runs.printed()) is None


def test_access_grant_revoke_show(hoist, admin, runs: Runs) -> None:  # type: ignore[no-untyped-def]
    _ok(admin("user", "create", "bob"))
    _ok(admin("team", "create", "ops"))
    _ok(admin("team", "add", "ops", "bob"))
    assert "granted push:dev to user:bob" in _ok(admin("access", "grant", "--user", "bob", "push:dev")).output
    assert "user:bob already holds push:dev" in _ok(admin("access", "grant", "--user", "bob", "push:dev")).output
    assert "granted role:operator to team:ops" in _ok(admin("access", "grant", "--team", "ops", "--role", "operator")).output

    report = json.loads(_ok(admin("access", "show", "--json")).stdout)
    assert {r["name"] for r in report["roles"]} >= {"viewer", "developer", "ci", "release", "operator", "admin"}
    users = {u["name"]: u for u in report["users"]}
    assert users["bob"]["grants"] == ["push:dev"] and "deploy@prod" in users["bob"]["permissions"]
    assert report["teams"] == [
        {"name": "ops", "members": ["bob"], "grants": ["role:operator"], "permissions": report["teams"][0]["permissions"]}
    ]
    human = _ok(admin("access", "show")).output
    assert re.search(r"developer\s+approve@dev, approve@uat, delete:dev", human) and "anonymous reads:" in human
    assert re.search(r"bob\s+user\s+active\s+ops\s+push:dev\s+push:dev, read:prod, deploy@preprod", human)
    assert re.search(r"ops\s+bob\s+role:operator", human) and re.search(
        r"admin\s+user\s+active\s+-\s+role:admin\s+admin \(every right\)", human
    )

    bob = json.loads(_ok(admin("token", "create", "--user", "bob", "--json")).stdout)["token"]
    mine = json.loads(_ok(hoist("--token", bob, "access", "show", "--json")).stdout)
    assert "users" not in mine and mine["you"]["name"] == "bob"
    assert "USER " not in _ok(hoist("--token", bob, "access", "show")).output
    assert hoist("--token", bob, "access", "grant", "--user", "bob", "admin").exit_code == REFUSED

    revoked = _ok(admin("access", "revoke", "--team", "ops", "--role", "operator", "--json"))
    assert json.loads(revoked.stdout) == {"principal": "team:ops", "grant": "role:operator", "changed": True}
    assert "does not hold" in _ok(admin("access", "revoke", "--team", "ops", "--role", "operator")).output
    _ok(admin("access", "revoke", "--user", "bob", "push:dev"))
    assert json.loads(_ok(admin("user", "show", "bob", "--json")).stdout)["permissions"] == []

    assert admin("access", "grant", "--user", "bob", "--team", "ops", "push:dev").exit_code == USAGE
    assert admin("access", "grant", "--user", "bob").exit_code == USAGE
    assert admin("access", "grant", "--user", "bob", "--role", "ci", "push:dev").exit_code == USAGE
    assert admin("access", "grant", "--user", "bob", "push:nowhere").exit_code == USAGE
    assert admin("access", "grant", "--user", "bob", "fly:dev").exit_code == USAGE
    assert admin("access", "grant", "--team", "nobody", "push:dev").exit_code == NOT_FOUND
    assert SECRET.search(runs.printed(but=_is_token_create)) is None


def test_token_create_with_a_scope_you_do_not_hold_is_refused(hoist, admin) -> None:  # type: ignore[no-untyped-def]
    _ok(admin("user", "create", "lee", "--role", "viewer"))
    secret = json.loads(_ok(admin("token", "create", "--user", "lee", "--json")).stdout)["token"]
    for scope in ("admin", "push:prod"):
        refused = hoist("--token", secret, "token", "create", "--scope", scope)
        assert refused.exit_code == REFUSED, refused.output + refused.stderr
        assert f"lee does not hold {scope}" in refused.output + refused.stderr
    assert len(json.loads(_ok(admin("token", "list", "--user", "lee", "--json")).stdout)) == 1  # none was made
