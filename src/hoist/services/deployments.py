"""Deployments, rollbacks and what runs where.

A deployment is checked against its environment's gates when it starts. With ``pending`` the
client runs the deployment itself and reports how it ended (``finish``); otherwise it records a
deployment done elsewhere, as succeeded. A rollback is a deployment of an earlier version, checked
for presence, integrity and gates, that holds the rejected version back from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from hoist.domain.access import Right
from hoist.domain.errors import (
    DeploymentRefused,
    InvalidState,
    NothingToRollBack,
    Problem,
    describe_problems,
)
from hoist.domain.events import Action
from hoist.domain.models import (
    Actor,
    Artifact,
    ArtifactRef,
    Deployment,
    DeploymentKind,
    DeploymentStatus,
    Pipeline,
)
from hoist.domain.policy import Policy
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.domain.versions import Version
from hoist.services.base import Clock, artifact_event, record_refusal, retrying, utcnow
from hoist.services.blobs import Blobs
from hoist.services.catalog import current_deployments, resolve
from hoist.services.evidence import gather_evidence
from hoist.services.guard import Guard
from hoist.services.integrity import manifest_problems


@dataclass(frozen=True, slots=True)
class RollbackPlan:
    environment: str
    package: str
    current: Deployment
    target: Artifact
    deployment: Deployment | None  # None for a dry run


@dataclass(frozen=True, slots=True)
class _Refusal:
    artifact: Artifact
    problems: list[Problem]


class DeploymentService:
    def __init__(self, metadata: MetadataStore, blobs: Blobs, policy: Policy, guard: Guard, clock: Clock = utcnow) -> None:
        self._guard = guard
        self._metadata = metadata
        self._blobs = blobs
        self._policy = policy
        self._clock = clock

    def deploy(
        self,
        ref: ArtifactRef,
        *,
        environment: str,
        actor: Actor,
        pending: bool = False,
        reason: str | None = None,
        pipeline: Pipeline | None = None,
    ) -> Deployment:
        self._may_deploy(ref, environment, actor)

        def unit_of_work() -> Deployment | _Refusal:
            with self._metadata.session() as s:
                artifact = resolve(s, ref)
                problems = self._policy.deployment_problems(artifact, gather_evidence(s, artifact), environment)
                if problems:
                    return _Refusal(artifact, problems)
                return self._record(s, artifact, environment, DeploymentKind.DEPLOY, actor, pending, reason, pipeline)

        outcome = retrying(unit_of_work)
        if isinstance(outcome, _Refusal):
            self._refuse(outcome, environment, actor, pipeline, reason, dry_run=False)
        assert isinstance(outcome, Deployment)
        return outcome

    def check(self, ref: ArtifactRef, *, environment: str, actor: Actor) -> list[Problem]:
        """What ``deploy`` would refuse, changing nothing (a confirmation page shows it first)."""
        self._may_deploy(ref, environment, actor)
        with self._metadata.reader() as s:
            artifact = resolve(s, ref)
            return self._policy.deployment_problems(artifact, gather_evidence(s, artifact), environment)

    def _may_deploy(self, ref: ArtifactRef, environment: str, actor: Actor) -> None:
        self._policy.environment(environment)
        self._guard.require(actor, Right.DEPLOY, environment, asked=f"deploy {ref} to {environment}", subject=str(ref))

    def finish(
        self,
        deployment_id: int,
        *,
        succeeded: bool,
        actor: Actor,
        exit_code: int | None = None,
        pipeline: Pipeline | None = None,
    ) -> Deployment:
        status = DeploymentStatus.SUCCEEDED if succeeded else DeploymentStatus.FAILED
        with self._metadata.reader() as s:
            environment = s.deployments.get(deployment_id).environment
        self._guard.require(
            actor,
            Right.DEPLOY,
            environment,
            asked=f"finish deployment {deployment_id}",
            subject=f"deployment:{deployment_id}",
        )

        def unit_of_work() -> Deployment:
            with self._metadata.session() as s:
                current = s.deployments.get(deployment_id)
                if current.status is not DeploymentStatus.STARTED:
                    raise InvalidState(f"deployment {deployment_id} already {current.status}", deployment=deployment_id)
                now = self._clock()
                done = s.deployments.finish(deployment_id, status, now=now, exit_code=exit_code)
                artifact = s.artifacts.get_by_id(done.artifact_id)
                action = Action.DEPLOY_SUCCEED if succeeded else Action.DEPLOY_FAIL
                s.audit.append(
                    artifact_event(
                        action,
                        artifact,
                        actor,
                        pipeline,
                        environment=done.environment,
                        deployment=done.id,
                        kind=str(done.kind),
                        exit_code=exit_code,
                    ),
                    now=now,
                )
                return done

        return retrying(unit_of_work)

    def rollback(
        self,
        package: str,
        *,
        environment: str,
        actor: Actor,
        to: Version | None = None,
        dry_run: bool = False,
        pending: bool = False,
        reason: str | None = None,
        pipeline: Pipeline | None = None,
    ) -> RollbackPlan:
        self._policy.environment(environment)
        self._guard.require(actor, Right.DEPLOY, environment, asked=f"roll back {package} in {environment}", subject=package)
        with self._metadata.reader() as s:
            current, target, changed = self._choose(s, package, environment, to)
            manifest = s.manifests.get(target.digest)
        # Integrity is checked outside the transaction: it reads every byte of the target.
        intact = changed + manifest_problems(self._blobs, target.digest, manifest)
        why = reason or f"rollback of {package} in {environment} from {current.version} to {target.version}"

        def unit_of_work() -> RollbackPlan | _Refusal:
            with self._metadata.session() as s:
                now_current, now_target, _ = self._choose(s, package, environment, to)
                if (now_current.id, now_target.id) != (current.id, target.id):
                    raise InvalidState(f"{package} changed in {environment} meanwhile: run the rollback again")
                problems = intact + self._policy.deployment_problems(target, gather_evidence(s, target), environment)
                if problems:
                    return _Refusal(target, problems)
                if dry_run:
                    return RollbackPlan(environment, package, current, target, None)
                deployment = self._record(
                    s,
                    target,
                    environment,
                    DeploymentKind.ROLLBACK,
                    actor,
                    pending,
                    why,
                    pipeline,
                    rejected=current,
                )
                rejected = s.artifacts.get_by_id(current.artifact_id)
                now = self._clock()
                s.holds.add(rejected.id, environment, reason=why, actor=actor.name, now=now)
                s.audit.append(
                    artifact_event(
                        Action.HOLD,
                        rejected,
                        actor,
                        pipeline,
                        environment=environment,
                        reason=why,
                        rolled_back_to=target.ref,
                    ),
                    now=now,
                )
                return RollbackPlan(environment, package, current, target, deployment)

        outcome = retrying(unit_of_work)
        if isinstance(outcome, _Refusal):
            self._refuse(outcome, environment, actor, pipeline, why, dry_run=dry_run, rollback=True)
        assert isinstance(outcome, RollbackPlan)
        return outcome

    def status(self, environment: str | None = None, *, actor: Actor) -> list[Deployment]:
        """What runs now in each environment (or one), per package: in the environments whose
        registry ``actor`` may read."""
        if environment is not None:
            self._policy.environment(environment)
        with self._metadata.reader() as s:
            running = current_deployments(s.deployments.history(environment=environment))
        order = {e.name: i for i, e in enumerate(self._policy.environments)}
        visible = [d for d in running.values() if self._visible(actor, d)]
        return sorted(visible, key=lambda d: (order.get(d.environment, len(order)), d.package))

    def history(self, *, actor: Actor, environment: str | None = None, package: str | None = None) -> list[Deployment]:
        """Deployments, newest first, in the environments whose registry ``actor`` may read."""
        with self._metadata.reader() as s:
            return [d for d in s.deployments.history(environment=environment, package=package) if self._visible(actor, d)]

    def _visible(self, actor: Actor, d: Deployment) -> bool:
        return actor.may(Right.READ, self._policy.environment(d.environment).registry)

    # -- helpers ---------------------------------------------------------------------------------

    def _choose(
        self, s: MetadataSession, package: str, environment: str, to: Version | None
    ) -> tuple[Deployment, Artifact, list[Problem]]:
        """The deployment that runs now, the artifact to return to, and whether the bytes that
        ran before are still the artifact's bytes (a snapshot may have been overwritten since)."""
        history = s.deployments.history(environment=environment, package=package)
        current = current_deployments(history).get((environment, package))
        if current is None:
            raise NothingToRollBack(f"{package} has no successful deployment in {environment}")
        changed: list[Problem] = []
        if to is not None:
            target = resolve(s, ArtifactRef(package, version=to))
        else:
            earlier = (
                d
                for d in history
                if d.status is DeploymentStatus.SUCCEEDED
                and d.artifact_id != current.artifact_id
                and not _is_held(s, d.artifact_id, environment)
            )
            found = next(earlier, None)
            if found is None:
                raise NothingToRollBack(f"{package} has no earlier successful deployment in {environment} to return to")
            target = s.artifacts.get_by_id(found.artifact_id)
            if found.digest != target.digest:
                changed.append(Problem("present", f"{target.ref} ran as {found.digest} but now holds {target.digest}"))
        if target.id == current.artifact_id:
            raise InvalidState(f"{environment} already runs {target.ref}")
        return current, target, changed

    def _record(
        self,
        s: MetadataSession,
        artifact: Artifact,
        environment: str,
        kind: DeploymentKind,
        actor: Actor,
        pending: bool,
        reason: str | None,
        pipeline: Pipeline | None,
        rejected: Deployment | None = None,
    ) -> Deployment:
        now = self._clock()
        status = DeploymentStatus.STARTED if pending else DeploymentStatus.SUCCEEDED
        deployment = s.deployments.add(
            artifact,
            environment,
            status=status,
            kind=kind,
            actor=actor.name,
            now=now,
            pipeline=pipeline,
            reason=reason,
        )
        if kind is DeploymentKind.ROLLBACK:
            action = Action.ROLLBACK
        else:
            action = Action.DEPLOY_START if pending else Action.DEPLOY_SUCCEED
        extra = {"rejected": f"{rejected.package}@{rejected.version}", "reason": reason} if rejected else {}
        s.audit.append(
            artifact_event(
                action,
                artifact,
                actor,
                pipeline,
                environment=environment,
                deployment=deployment.id,
                status=str(status),
                **extra,
            ),
            now=now,
        )
        return deployment

    def _refuse(
        self,
        refusal: _Refusal,
        environment: str,
        actor: Actor,
        pipeline: Pipeline | None,
        reason: str | None,
        *,
        dry_run: bool,
        rollback: bool = False,
    ) -> None:
        what = "rollback" if rollback else "deployment"
        if not dry_run:
            record_refusal(
                self._metadata,
                artifact_event(
                    Action.DEPLOY_REFUSED,
                    refusal.artifact,
                    actor,
                    pipeline,
                    environment=environment,
                    kind=what,
                    problems=[p.as_dict() for p in refusal.problems],
                    reason=reason,
                ),
                self._clock,
            )
        verb = "would be refused" if dry_run else "refused"
        raise DeploymentRefused(
            f"{what} of {refusal.artifact.ref} to {environment} {verb}: {describe_problems(refusal.problems)}",
            refusal.problems,
            ref=refusal.artifact.ref,
            environment=environment,
        )


def _is_held(s: MetadataSession, artifact_id: int, environment: str) -> bool:
    return environment in {h.environment for h in s.holds.of(artifact_id)}
