"""The web UI's actions: promote, approve, record a deployment, roll back.

Each is a GET that shows what will happen (the gate check of a dry run, the rollback's target and
what it holds back) and a POST (CSRF-checked by ``logged_in``) that does it through the service the
API calls, with the logged-in actor, then sends the browser to the artifact's page (303), where the
outcome is visible in the artifact's state and timeline. A refusal is the domain error's page: the
same message as the CLI and the API, with its status code, and nothing changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hoist.domain.errors import DeploymentRefused, InvalidInput
from hoist.domain.models import Actor, ArtifactRef
from hoist.domain.names import NOTE_CHARS, validate_package_name
from hoist.domain.packages import version_of
from hoist.domain.policy import Policy
from hoist.services.guard import abilities
from hoist.web.pages import Page, Pages, read_form
from hoist.web.render import PREFIX


def artifact_page(ref: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/artifacts/{quote(ref)}", 303)


def note(form: dict[str, str], field: str) -> str | None:
    """A reason or comment: optional, as long as the API takes."""
    text = form.get(field, "").strip()
    if len(text) > NOTE_CHARS:
        raise InvalidInput(f"the {field} is longer than {NOTE_CHARS} characters")
    return text or None


def next_registry(policy: Policy, holding: set[str], allowed: Sequence[str]) -> str | None:
    """Where a promotion would go next: the registry of the first environment (in the policy's
    order) that does not hold the artifact and takes promotions, among ``allowed`` when any is."""
    ahead = [
        e.registry for e in policy.environments if e.registry not in holding and policy.registry(e.registry).promote_from
    ]
    return next((r for r in ahead if r in allowed), ahead[0] if ahead else None)


class Actions:
    def __init__(self, pages: Pages) -> None:
        self.web = pages
        self.s = pages.s

    def routes(self) -> list[tuple[str, str, Page]]:
        """(path segment, method, page) of every action."""
        return [
            ("promote", "GET", self.confirm_promote),
            ("promote", "POST", self.promote),
            ("approve", "GET", self.confirm_approve),
            ("approve", "POST", self.approve),
            ("deploy", "GET", self.confirm_deploy),
            ("deploy", "POST", self.deploy),
            ("rollback", "GET", self.confirm_rollback),
            ("rollback", "POST", self.rollback),
        ]

    # -- promote -------------------------------------------------------------------------------------

    async def confirm_promote(self, request: Request, actor: Actor) -> Response:
        ref = ArtifactRef.parse(request.path_params["subject"])

        def read() -> dict[str, Any]:
            details = self.s.catalog.describe(ref, actor=actor)
            holding = {p.registry for p in details.placements}
            options = sorted(abilities(actor, self.s.policy).promote - holding)
            to = request.query_params.get("to") or next_registry(self.s.policy, holding, options)
            check = self.s.promotions.check(ref, to=to, actor=actor) if to else None
            return {"artifact": details.artifact, "options": options, "to": to, "check": check}

        return self.web.render(request, "promote.html", **await run_in_threadpool(read))

    async def promote(self, request: Request, actor: Actor) -> Response:
        ref = ArtifactRef.parse(request.path_params["subject"])
        form = await read_form(request)
        reason = note(form, "reason")
        result = await run_in_threadpool(
            lambda: self.s.promotions.promote(ref, to=form.get("to", ""), actor=actor, reason=reason)
        )
        return artifact_page(result.artifact.ref)

    # -- approve -------------------------------------------------------------------------------------

    async def confirm_approve(self, request: Request, actor: Actor) -> Response:
        ref = ArtifactRef.parse(request.path_params["subject"])
        policy = self.s.policy

        def read() -> dict[str, Any]:
            details = self.s.catalog.describe(ref, actor=actor)
            allowed = abilities(actor, policy).approve
            options = [e.name for e in policy.environments if e.name in allowed]
            gated = [e for e in options if policy.environment(e).gates.approvals]  # where approvals count
            fallback = (gated or options or [policy.environments[-1].name])[0]
            chosen = request.query_params.get("environment") or fallback
            env = self.s.evidence.check_approver(ref, environment=chosen, actor=actor)
            return {"artifact": details.artifact, "options": options, "environment": env, "limit": NOTE_CHARS}

        return self.web.render(request, "approve.html", **await run_in_threadpool(read))

    async def approve(self, request: Request, actor: Actor) -> Response:
        ref = ArtifactRef.parse(request.path_params["subject"])
        form = await read_form(request)
        comment = note(form, "comment")
        await run_in_threadpool(
            lambda: self.s.evidence.approve(ref, environment=form.get("environment", ""), actor=actor, comment=comment)
        )
        return artifact_page(str(ref))

    # -- deploy --------------------------------------------------------------------------------------

    async def confirm_deploy(self, request: Request, actor: Actor) -> Response:
        ref = ArtifactRef.parse(request.path_params["subject"])
        policy = self.s.policy

        def read() -> dict[str, Any]:
            details = self.s.catalog.describe(ref, actor=actor)
            allowed = abilities(actor, policy).deploy
            options = [e.name for e in policy.environments if e.name in allowed]
            ran = {d.environment for d in details.deployments}
            chosen = request.query_params.get("environment") or next(
                (e for e in options if e not in ran), options[-1] if options else policy.environments[0].name
            )
            problems = self.s.deployments.check(ref, environment=chosen, actor=actor)
            return {"artifact": details.artifact, "options": options, "environment": chosen, "problems": problems}

        return self.web.render(request, "deploy.html", **await run_in_threadpool(read))

    async def deploy(self, request: Request, actor: Actor) -> Response:
        ref = ArtifactRef.parse(request.path_params["subject"])
        form = await read_form(request)
        reason = note(form, "reason")
        await run_in_threadpool(
            lambda: self.s.deployments.deploy(ref, environment=form.get("environment", ""), actor=actor, reason=reason)
        )
        return artifact_page(str(ref))

    # -- roll back -----------------------------------------------------------------------------------

    async def confirm_rollback(self, request: Request, actor: Actor) -> Response:
        package = validate_package_name(request.path_params["subject"])
        environment = request.query_params.get("environment", "")
        wanted = request.query_params.get("to") or None

        def read() -> dict[str, Any]:
            to = version_of(package, wanted) if wanted else None
            try:
                plan = self.s.deployments.rollback(package, environment=environment, actor=actor, to=to, dry_run=True)
            except DeploymentRefused as refused:
                return {"plan": None, "refused": refused}
            return {"plan": plan, "refused": None}

        context = await run_in_threadpool(read)
        return self.web.render(
            request, "rollback.html", package=package, environment=environment, to=wanted or "", **context
        )

    async def rollback(self, request: Request, actor: Actor) -> Response:
        package = validate_package_name(request.path_params["subject"])
        form = await read_form(request)
        reason = note(form, "reason")
        wanted = form.get("to") or None
        plan = await run_in_threadpool(
            lambda: self.s.deployments.rollback(
                package,
                environment=form.get("environment", ""),
                actor=actor,
                to=version_of(package, wanted) if wanted else None,
                reason=reason,
            )
        )
        return artifact_page(plan.target.ref)
