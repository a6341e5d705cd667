"""hoist login, logout, whoami, token, user, team, access.

``hoist login`` trades a password (or checks a token) for a token kept in the credentials file,
one per server URL (``credentials_file()``, mode 0600); every other command presents it. Secrets
are read from a hidden prompt or from stdin (``--password-stdin``, ``--token-stdin``), never taken
as plain arguments, and never printed: the one exception is ``hoist token create``, which shows
the new token once, because the server keeps only its hash.

Grants are roles (``--role developer``, stored as ``role:developer``) or permissions
(``push:dev``, ``deploy@prod``, ``admin``, ``audit``; ``*`` for every registry or environment).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

from hoist.cli.context import Cli, common_options, credentials_file, escape, save_token, saved_token
from hoist.cli.tables import columns
from hoist.domain.errors import Unauthenticated
from hoist.domain.principals import TOKEN_PREFIX

SERVER_PERMISSIONS = {"admin", "audit"}

if TYPE_CHECKING:
    from rich.table import Table


# -- helpers ----------------------------------------------------------------------------------------


def _stdin_secret(what: str) -> str:
    """A secret piped on stdin (``echo "$PASSWORD" | hoist login -u me --password-stdin``)."""
    text = sys.stdin.read().rstrip("\r\n")
    if not text:
        raise click.UsageError(f"no {what} on stdin")
    return text


def _grants(roles: Iterable[str], permissions: Iterable[str]) -> list[str]:
    return [f"role:{r}" for r in roles] + list(permissions)


def _scope_item(text: str) -> str:
    """``--scope developer`` means the role; ``--scope push:dev`` the permission."""
    text = text.strip()
    if text.startswith("role:") or ":" in text or "@" in text or text in SERVER_PERMISSIONS:
        return text
    return f"role:{text}"


def _expires_days(text: str) -> int | None:
    value = text.strip().lower()
    if value == "never":
        return None
    number = value.removesuffix("d")
    if not number.isdigit():
        raise click.BadParameter(f"{text!r}: write a number of days (90d, 30) or never", param_hint="--expires")
    return int(number)


def _date(value: str | None) -> str:
    return value[:10] if value else "never"


def _joined(items: Iterable[str] | None, empty: str = "-") -> str:
    listed = list(items or [])
    return ", ".join(listed) if listed else empty


def _permissions(held: list[str]) -> str:
    """What a principal may do, for people: ``admin`` holds every right, so it stands alone."""
    return "admin (every right)" if "admin" in held else _joined(held, "none")


def _principal(user: str | None, team: str | None) -> str:
    if (user is None) == (team is None):
        raise click.UsageError("name exactly one principal: --user NAME or --team NAME")
    return f"user:{user}" if user is not None else f"team:{team}"


def _one_grant(role: str | None, permission: str | None) -> str:
    if (role is None) == (permission is None):
        raise click.UsageError("give exactly one of --role NAME or a PERMISSION such as push:dev")
    return f"role:{role}" if role is not None else str(permission)


def _new_password(confirm: bool = True) -> str:
    password: str = click.prompt("New password", hide_input=True, confirmation_prompt=confirm, err=True)
    return password


# -- login, logout, whoami --------------------------------------------------------------------------


def _login_secrets(
    cli: Cli, username: str | None, password_stdin: bool, token_stdin: bool
) -> tuple[str | None, str | None, str | None]:
    """(username, password, None) or (None, None, token), from stdin, --token or hidden prompts."""
    if password_stdin and token_stdin:
        raise click.UsageError("give --password-stdin or --token-stdin, not both")
    if token_stdin and username:
        raise click.UsageError("--token-stdin logs in with a token: it takes no --username")
    if password_stdin and not username:
        raise click.UsageError("--password-stdin needs --username")
    token: str | None = None
    password: str | None = None
    if token_stdin:
        token = _stdin_secret("token").strip()
    elif password_stdin:
        password = _stdin_secret("password")
    elif username:
        password = click.prompt("Password", hide_input=True, err=True)
    elif cli.token:
        token = cli.token
    else:
        secret: str = click.prompt("Token or password", hide_input=True, err=True)
        if secret.strip().startswith(TOKEN_PREFIX):
            token = secret.strip()
        else:
            password = secret
            username = click.prompt("Username", err=True)
    return username, password, token


@click.command()
@click.option("-u", "--username", default=None, help="Log in with this user's password (prompted, or --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--token-stdin", is_flag=True, help="Read an API token from stdin instead of a password.")
@common_options
def login(cli: Cli, username: str | None, password_stdin: bool, token_stdin: bool) -> None:
    """Log in to --url and keep a token for it in the credentials file.

    With a username and password the server hands out a new token (the password itself is never
    stored); with a token (--token-stdin, --token, or pasted at the prompt) it is checked and kept.
    """
    from hoist.client.access import token_id_of  # with the client, not at start-up

    username, password, token = _login_secrets(cli, username, password_stdin, token_stdin)
    client = cli.client()
    if token is not None:
        me, record = client.token_info(token)
        if not me.get("authenticated"):
            raise Unauthenticated("this token is not valid")
        token_id = record["id"] if record else token_id_of(me.get("credential"))
        expires_at = record["expires_at"] if record else None
        name = me["name"]
    else:
        assert username is not None
        assert password is not None
        made = client.login(username, password, description=f"hoist login on {socket.gethostname()}"[:200])
        token, token_id, expires_at, name = made["token"], made["id"], made["expires_at"], made["owner"]
    path = save_token(cli.url, token)
    out = {"url": cli.url, "name": name, "token_id": token_id, "expires_at": expires_at, "credentials_file": str(path)}

    def human() -> None:
        cli.out.print(f"Logged in to {cli.url} as [bold]{name}[/] (token {token_id}, expires {_date(expires_at)})")
        cli.out.print(f"the token is kept in {path}")

    cli.emit(out, human)


@click.command()
@click.option("--revoke", is_flag=True, help="Revoke the saved token on the server first.")
@common_options
def logout(cli: Cli, revoke: bool) -> None:
    """Forget the token kept for --url (and with --revoke, revoke it on the server too)."""
    token = saved_token(cli.url)
    revoked: str | None = None
    note: str | None = None
    if token is not None and revoke:
        try:
            record = cli.client().revoke_own_token(token)
        except Unauthenticated as exc:
            note = f"the server no longer accepts it ({exc.message})"
        else:
            revoked = record["id"] if record else None
    if token is not None:
        save_token(cli.url, None)
    out = {"url": cli.url, "logged_out": token is not None, "revoked": revoked, "credentials_file": str(credentials_file())}

    def human() -> None:
        if token is None:
            cli.out.print(f"not logged in to {cli.url}: no token kept for it")
            return
        cli.out.print(f"Logged out of {cli.url}" + (f"; token {revoked} is revoked" if revoked else ""))
        if note:
            cli.out.print(f"the token was not revoked: {note}")

    cli.emit(out, human)


@click.command()
@common_options
def whoami(cli: Cli) -> None:
    """Who the server says you are, with which credential, and every permission you hold."""
    me = cli.client().whoami()

    def human() -> None:
        if not me.get("authenticated"):
            cli.out.print(f"[bold]{me['name']}[/]: not logged in to {cli.url} (`hoist login`)")
        else:
            cli.out.print(f"[bold]{me['name']}[/] ({me['kind']}) with {me['credential']}")
        cli.out.print(f"permissions: {_permissions(me['permissions'])}")

    cli.emit(me, human)


# -- tokens -------------------------------------------------------------------------------------------


@click.group(name="token")
def token_group() -> None:
    """API tokens: for CI robots, scripts and package clients (docker, twine, npm)."""


@token_group.command("create")
@click.option("--user", "owner", default=None, help="Whose token [default: yours; another's needs admin].")
@click.option("-d", "--description", default="", help="What it is for, e.g. 'CI of shop-api'.")
@click.option(
    "--scope",
    multiple=True,
    help="Narrow it to a role or permission (repeat); e.g. --scope ci --scope deploy@uat [default: all the owner holds].",
)
@click.option("--expires", default="90d", show_default=True, help="Days until it expires (90d, 30), or never.")
@common_options
def token_create(cli: Cli, owner: str | None, description: str, scope: tuple[str, ...], expires: str) -> None:
    """Create an API token and show it, this once."""
    days = _expires_days(expires)
    made = cli.client().create_token(
        owner, description=description, scope=[_scope_item(s) for s in scope] or None, expires_in_days=days
    )

    def human() -> None:
        scoped = _joined(made["scope"], "everything the owner holds")
        cli.out.print(
            f"created token {made['id']} for [bold]{made['owner']}[/] (expires {_date(made['expires_at'])}; scope {scoped})"
        )
        click.echo(made["token"])
        cli.err.print("[yellow]This is the only time the token is shown: the server keeps only its hash. Store it now.[/]")

    cli.emit(made, human)


@token_group.command("list")
@click.option("--user", "owner", default=None, help="Another user's tokens (admin).")
@click.option("--all", "every", is_flag=True, help="Everyone's tokens (admin).")
@common_options
def token_list(cli: Cli, owner: str | None, every: bool) -> None:
    """Your API tokens (never their secrets)."""
    rows = cli.client().tokens(owner, all=every)

    def human() -> None:
        if not rows:
            cli.out.print("no tokens")
            return
        table = columns("ID", "OWNER", "DESCRIPTION", "SCOPE", "STATE", "EXPIRES")
        for t in rows:
            table.add_row(
                t["id"],
                t["owner"],
                escape(t["description"] or "-"),
                _joined(t["scope"], "all"),
                t["state"],
                _date(t["expires_at"]),
            )
        cli.out.print(table)

    cli.emit(rows, human)


@token_group.command("revoke")
@click.argument("token_id")
@common_options
def token_revoke(cli: Cli, token_id: str) -> None:
    """Revoke a token by its ID: it stops working at once."""
    record = cli.client().revoke_token(token_id)
    cli.emit(record, lambda: cli.out.print(f"revoked token {record['id']} of {record['owner']}"))


# -- users and robots ---------------------------------------------------------------------------------


def _user_row(table: Table, u: dict[str, Any]) -> None:
    table.add_row(
        u["name"],
        u["kind"],
        "disabled" if u["disabled"] else "active",
        "yes" if u["password"] else "no",
        _joined(u["teams"]),
        _joined(u["grants"]),
    )


@click.group(name="user")
def user_group() -> None:
    """Users and robots (CI identities that authenticate with tokens only); administrators only."""


@user_group.command("create")
@click.argument("name")
@click.option("--robot", is_flag=True, help="A robot: no password, tokens only.")
@click.option("--password-stdin", is_flag=True, help="Read the user's password from stdin.")
@click.option("--role", "roles", multiple=True, help="Grant a role (repeat), e.g. developer.")
@click.option("--grant", "permissions", multiple=True, help="Grant a permission (repeat), e.g. push:dev.")
@common_options
def user_create(
    cli: Cli, name: str, robot: bool, password_stdin: bool, roles: tuple[str, ...], permissions: tuple[str, ...]
) -> None:
    """Create a user (or with --robot a robot), optionally with roles and permissions."""
    if robot and password_stdin:
        raise click.UsageError("a robot authenticates with tokens only: give it no password")
    password = _stdin_secret("password") if password_stdin else None
    made = cli.client().create_user(name, robot=robot, password=password, grants=_grants(roles, permissions))

    def human() -> None:
        cli.out.print(f"created {made['kind']} [bold]{made['name']}[/] with {_joined(made['grants'], 'no grants')}")
        if not made["password"]:
            cli.out.print(f"it logs in with tokens: `hoist token create --user {made['name']}`")

    cli.emit(made, human)


@user_group.command("list")
@common_options
def user_list(cli: Cli) -> None:
    """Every user and robot, with their teams and grants."""
    rows = cli.client().users()

    def human() -> None:
        table = columns("NAME", "KIND", "STATE", "PASSWORD", "TEAMS", "GRANTS")
        for u in rows:
            _user_row(table, u)
        cli.out.print(table)

    cli.emit(rows, human)


@user_group.command("show")
@click.argument("name")
@common_options
def user_show(cli: Cli, name: str) -> None:
    """One user: kind, state, teams, grants and the permissions they add up to."""
    u = cli.client().user(name)

    def human() -> None:
        cli.out.print(f"[bold]{u['name']}[/] ({u['kind']}, {'disabled' if u['disabled'] else 'active'})")
        cli.out.print(f"created:     {u['created_at'][:19].replace('T', ' ')} by {u['created_by']}")
        cli.out.print(f"password:    {'set' if u['password'] else 'none (tokens only)'}")
        cli.out.print(f"teams:       {_joined(u['teams'])}")
        cli.out.print(f"grants:      {_joined(u['grants'])}")
        cli.out.print(f"permissions: {_permissions(u['permissions'])}")

    cli.emit(u, human)


def _set_disabled(cli: Cli, name: str, disabled: bool) -> None:
    u = cli.client().set_disabled(name, disabled)
    verb = "disabled" if disabled else "enabled"
    note = ": its tokens and password stop working" if disabled else ""
    cli.emit(u, lambda: cli.out.print(f"{verb} {u['kind']} [bold]{u['name']}[/]{note}"))


@user_group.command("disable")
@click.argument("name")
@common_options
def user_disable(cli: Cli, name: str) -> None:
    """Disable a user or robot: its password and every token stop working at once."""
    _set_disabled(cli, name, True)


@user_group.command("enable")
@click.argument("name")
@common_options
def user_enable(cli: Cli, name: str) -> None:
    """Enable a disabled user or robot again."""
    _set_disabled(cli, name, False)


@user_group.command("passwd")
@click.argument("name", required=False)
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
@common_options
def user_passwd(cli: Cli, name: str | None, password_stdin: bool) -> None:
    """Set a password: yours (asking the current one), or with admin anyone's."""
    client = cli.client()
    me = client.actor
    name = name or me
    current: str | None = None
    if password_stdin:
        password = _stdin_secret("password")
    else:
        if name == me and client.user(me)["password"]:
            current = click.prompt("Current password", hide_input=True, err=True)
        password = _new_password()
    client.set_password(name, password, current=current)
    out = {"name": name, "password": "changed"}
    cli.emit(out, lambda: cli.out.print(f"changed the password of [bold]{name}[/]"))


# -- teams -------------------------------------------------------------------------------------------


@click.group(name="team")
def team_group() -> None:
    """Teams: their members hold the team's grants too; administrators only."""


@team_group.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="Grant a role (repeat), e.g. developer.")
@click.option("--grant", "permissions", multiple=True, help="Grant a permission (repeat), e.g. deploy@uat.")
@common_options
def team_create(cli: Cli, name: str, roles: tuple[str, ...], permissions: tuple[str, ...]) -> None:
    """Create a team, optionally with roles and permissions."""
    made = cli.client().create_team(name, grants=_grants(roles, permissions))
    cli.emit(
        made, lambda: cli.out.print(f"created team [bold]{made['name']}[/] with {_joined(made['grants'], 'no grants')}")
    )


@team_group.command("list")
@common_options
def team_list(cli: Cli) -> None:
    """Every team, its members and grants."""
    rows = cli.client().teams()

    def human() -> None:
        if not rows:
            cli.out.print("no teams")
            return
        table = columns("TEAM", "MEMBERS", "GRANTS")
        for t in rows:
            table.add_row(t["name"], _joined(t["members"]), _joined(t["grants"]))
        cli.out.print(table)

    cli.emit(rows, human)


@team_group.command("delete")
@click.argument("name")
@common_options
def team_delete(cli: Cli, name: str) -> None:
    """Delete a team: its members lose what it granted."""
    cli.client().delete_team(name)
    cli.emit({"name": name, "deleted": True}, lambda: cli.out.print(f"deleted team [bold]{name}[/]"))


@team_group.command("add")
@click.argument("team")
@click.argument("user")
@common_options
def team_add(cli: Cli, team: str, user: str) -> None:
    """Add USER to TEAM."""
    changed = cli.client().add_member(team, user)
    text = f"added {user} to team {team}" if changed else f"{user} is already in team {team}"
    cli.emit({"team": team, "user": user, "changed": changed}, lambda: cli.out.print(text))


@team_group.command("remove")
@click.argument("team")
@click.argument("user")
@common_options
def team_remove(cli: Cli, team: str, user: str) -> None:
    """Remove USER from TEAM."""
    changed = cli.client().remove_member(team, user)
    text = f"removed {user} from team {team}" if changed else f"{user} is not in team {team}"
    cli.emit({"team": team, "user": user, "changed": changed}, lambda: cli.out.print(text))


# -- access ------------------------------------------------------------------------------------------


@click.group(name="access")
def access_group() -> None:
    """Who may do what: roles, grants, anonymous reads."""


@access_group.command("show")
@common_options
def access_show(cli: Cli) -> None:
    """Roles and anonymous reads; for administrators and auditors every user and team too."""
    report = cli.client().access()

    def human() -> None:
        roles = columns("ROLE", "PERMISSIONS", "DESCRIPTION")
        for r in report["roles"]:
            roles.add_row(r["name"], _joined(r["permissions"]), escape(r["description"]))
        cli.out.print(roles)
        cli.out.print(f"\nanonymous reads: {_joined(report['anonymous_read'], 'none')}")
        if "users" in report:
            users = columns("USER", "KIND", "STATE", "TEAMS", "GRANTS", "PERMISSIONS")
            for u in report["users"]:
                state = "disabled" if u["disabled"] else "active"
                users.add_row(
                    u["name"], u["kind"], state, _joined(u["teams"]), _joined(u["grants"]), _permissions(u["permissions"])
                )
            cli.out.print()
            cli.out.print(users)
        if report.get("teams"):
            teams = columns("TEAM", "MEMBERS", "GRANTS", "PERMISSIONS")
            for t in report["teams"]:
                teams.add_row(t["name"], _joined(t["members"]), _joined(t["grants"]), _permissions(t["permissions"]))
            cli.out.print()
            cli.out.print(teams)

    cli.emit(report, human)


def _grant_options(command: Any) -> Any:
    for option in reversed(
        (
            click.option("--user", default=None, help="The user or robot."),
            click.option("--team", default=None, help="The team."),
            click.option("--role", default=None, help="A role, e.g. developer."),
            click.argument("permission", required=False),
        )
    ):
        command = option(command)
    return command


@access_group.command("grant")
@_grant_options
@common_options
def access_grant(cli: Cli, user: str | None, team: str | None, role: str | None, permission: str | None) -> None:
    """Grant a role (--role NAME) or a PERMISSION (push:dev, deploy@prod, admin) to a user or team."""
    principal, grant = _principal(user, team), _one_grant(role, permission)
    changed = cli.client().grant(principal, grant)
    text = f"granted {grant} to {principal}" if changed else f"{principal} already holds {grant}"
    cli.emit({"principal": principal, "grant": grant, "changed": changed}, lambda: cli.out.print(text))


@access_group.command("revoke")
@_grant_options
@common_options
def access_revoke(cli: Cli, user: str | None, team: str | None, role: str | None, permission: str | None) -> None:
    """Take back a role or PERMISSION granted to a user or team (what teams grant stays)."""
    principal, grant = _principal(user, team), _one_grant(role, permission)
    changed = cli.client().revoke(principal, grant)
    text = f"revoked {grant} from {principal}" if changed else f"{principal} does not hold {grant} itself"
    cli.emit({"principal": principal, "grant": grant, "changed": changed}, lambda: cli.out.print(text))


COMMANDS = [login, logout, whoami, token_group, user_group, team_group, access_group]
