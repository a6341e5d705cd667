"""The authorization matrix, generated from the configuration and checked exhaustively over HTTP:
every role in force (and anonymous) x every action x every registry or environment of the policy.

The expectation comes from an oracle written here from the permission strings of each role, not
from the server's own code, so that a bug in the server's matching cannot hide in the expectation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hoist.client import HoistClient
from hoist.config import Settings
from tests.functional.helpers import push
from tests.functional.oci_helpers import image_manifest, put_manifest

REGISTRY_ACTIONS = ("read", "push", "promote", "delete")
ENVIRONMENT_ACTIONS = ("deploy", "approve")
SERVER_ACTIONS = ("audit", "admin")
REF = "matrix-app@1.0.0"


def oracle(permissions: list[str], action: str, target: str | None) -> bool:
    """Whether a role written as these permission strings holds ``action`` on ``target``."""
    if "admin" in permissions:
        return True
    if target is None:
        return action in permissions
    if action in ENVIRONMENT_ACTIONS:
        return f"{action}@{target}" in permissions or f"{action}@*" in permissions
    held = {f"{action}:{target}", f"{action}:*", f"admin:{target}", "admin:*"}
    if action == "push":  # cosign signatures and attestations: a release signs what it promotes
        held |= {f"promote:{target}", "promote:*"}
    return bool(held & set(permissions))


@dataclass(frozen=True)
class Case:
    role: str
    action: str
    target: str | None

    def __str__(self) -> str:
        return f"{self.role} {self.action} {self.target or '(server)'}"


def cases(settings: Settings) -> list[Case]:
    roles = [*settings.access.roles, "anonymous"]
    registries = sorted(settings.policy.registries)
    environments = [e.name for e in settings.policy.environments]
    out = [Case(r, a, t) for r, a, t in itertools.product(roles, REGISTRY_ACTIONS, registries)]
    out += [Case(r, a, t) for r, a, t in itertools.product(roles, ENVIRONMENT_ACTIONS, environments)]
    out += [Case(r, a, None) for r, a in itertools.product(roles, SERVER_ACTIONS)]
    return out


def attempt(http: httpx.Client, case: Case, headers: dict[str, str]) -> httpx.Response:
    """The request that exercises ``case.action`` on ``case.target``, over HTTP."""
    t = case.target
    match case.action:
        case "read":
            return http.get(f"/v2/{t}/matrix/app/tags/list", headers=headers)
        case "push":
            return http.post(f"/v2/{t}/matrix/app/blobs/uploads/", headers=headers)
        case "delete":
            return http.delete(f"/v2/{t}/matrix/app/manifests/sha256:{'0' * 64}", headers=headers)
        case "promote":
            return http.post("/api/v1/promotions", json={"ref": REF, "to": t, "dry_run": True}, headers=headers)
        case "deploy":
            return http.post("/api/v1/deployments", json={"ref": REF, "environment": t}, headers=headers)
        case "approve":
            return http.post("/api/v1/approvals", json={"ref": REF, "environment": t}, headers=headers)
        case "audit":
            return http.get("/api/v1/audit/verify", headers=headers)
        case "admin":
            return http.get("/api/v1/users", headers=headers)
    raise AssertionError(case.action)


def access_denied(response: httpx.Response) -> bool:
    """Refused by access control (401 for anonymous, 403 naming the permission needed), as opposed
    to refused by a gate or by the registry's policy (which name no permission)."""
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    body = response.json()
    details = body["errors"][0]["detail"] if "errors" in body else body["error"]["details"]
    return "needs" in details


def mismatch(case: Case, expected: bool, response: httpx.Response) -> str:
    return f"{case}: expected {'allowed' if expected else 'denied'}, got {response.status_code} {response.text[:160]}"


@pytest.fixture
def seeded(client: HoistClient, http: httpx.Client, tmp_path: Path) -> None:
    """An artifact in dev and prod, and the matrix repository in every registry."""
    push(client, tmp_path, package="matrix-app", version="1.0.0")
    client.attest(REF, type="unit-tests", result="pass")
    client.promote(REF, to="prod")
    put_manifest(http, "dev/matrix/app", "1.0.0", image_manifest(http, "dev/matrix/app"))


def run_matrix(
    settings: Settings, roles: list[str], anonymous: httpx.Client, token_for: Callable[..., str]
) -> tuple[list[str], dict[bool, int]]:
    """Every case of these roles (``anonymous`` included), one user per role; the mismatches, and
    how many cases were expected allowed and denied."""
    permissions = {r: [str(p) for p in settings.access.roles[r].permissions] for r in roles if r != "anonymous"}
    permissions["anonymous"] = [f"read:{r}" for r in sorted(settings.access.anonymous_read)]
    headers = {r: {"Authorization": f"Bearer {token_for(f'matrix-{r}', [f'role:{r}'])}"} for r in roles if r != "anonymous"}
    headers["anonymous"] = {}
    wrong = []
    decided = {True: 0, False: 0}
    for case in cases(settings):
        if case.role not in permissions:
            continue
        response = attempt(anonymous, case, headers[case.role])
        expected = oracle(permissions[case.role], case.action, case.target)
        decided[expected] += 1
        if access_denied(response) == expected:
            wrong.append(mismatch(case, expected, response))
    return wrong, decided


def test_every_role_action_and_target_is_decided_as_the_roles_say(
    settings: Settings, seeded: None, anonymous: httpx.Client, token_for: Callable[..., str]
) -> None:
    roles = [*settings.access.roles, "anonymous"]
    wrong, decided = run_matrix(settings, roles, anonymous, token_for)
    per_role = 4 * len(settings.policy.registries) + 2 * len(settings.policy.environments) + 2
    assert decided[True] + decided[False] == len(roles) * per_role == 9 * 18
    assert decided[True] > 40 and decided[False] > 60  # both sides of the matrix are exercised
    assert not wrong, "\n".join(wrong)


def test_the_defaults_separate_dev_from_prod(settings: Settings) -> None:
    """What the default roles mean, read from the matrix's oracle: nobody but an administrator
    pushes into prod; only release promotes there; deploying to and approving for prod are
    restricted to operators and approvers."""
    roles = {name: [str(p) for p in role.permissions] for name, role in settings.access.roles.items()}

    def who(action: str, target: str) -> set[str]:
        return {r for r, perms in roles.items() if oracle(perms, action, target) and r != "admin"}

    assert {r for r, p in roles.items() if any(x in p for x in ("push:prod", "push:*"))} == set()
    assert who("promote", "prod") == {"release"}
    assert who("deploy", "prod") == {"operator"}
    assert who("approve", "prod") == {"approver"}
    assert "developer" in who("push", "dev") and "developer" not in who("read", "prod")
    assert who("audit", None) == {"auditor"}  # type: ignore[arg-type]


class TestACustomPolicy:
    """The same matrix on a policy of its own: three registries, a custom role, anonymous reads."""

    @pytest.fixture
    def config_text(self) -> str:
        return """
[registries.dev]
direct_push = true
movable_tags = true
allow_delete = true
[registries.staging]
direct_push = false
promote_from = ["dev"]
anonymous_read = true
[registries.prod]
direct_push = false
promote_from = ["staging"]

[environments.test]
registry = "dev"
[environments.stage]
registry = "staging"
[environments.live]
registry = "prod"
approvals = 2

[ceilings]
snapshot = "test"
rc = "stage"
release = "live"

[roles.qa]
description = "tests in staging"
permissions = ["read:dev", "read:staging", "deploy@stage", "approve@stage"]

[roles.releaser]
permissions = ["read:*", "promote:staging", "promote:prod", "admin:staging"]
"""

    def test_the_matrix_holds_there_too(
        self, settings: Settings, client: HoistClient, tmp_path: Path, anonymous: httpx.Client, token_for: Callable[..., str]
    ) -> None:
        push(client, tmp_path, package="matrix-app", version="1.0.0")
        assert settings.access.anonymous_read == {"staging"}
        wrong, decided = run_matrix(settings, ["qa", "releaser", "developer", "anonymous"], anonymous, token_for)
        assert decided[True] + decided[False] == 4 * (4 * 3 + 2 * 3 + 2) and decided[True] > 15
        assert not wrong, "\n".join(wrong)
