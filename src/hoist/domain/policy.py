"""Policy as data, checked by pure functions.

Registries say what they accept (direct pushes, snapshot overwrites, promotions and their gates);
environments form a chain, each reading one registry, each with deploy gates; channels have a
default ceiling. The checks return every unmet condition as a ``Problem`` so that a refusal names
all of them at once and a dry run costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hoist.domain import attestations as a
from hoist.domain.advisories import Severity
from hoist.domain.errors import InvalidInput, Problem, UnknownEnvironment, UnknownRegistry
from hoist.domain.models import Artifact, Attachment, AttachmentKind, Result
from hoist.domain.names import clip
from hoist.domain.retention import DEFAULT_ROLLBACK_WINDOW, RetentionRules
from hoist.domain.versions import Channel


@dataclass(frozen=True, slots=True)
class AttestationRequirement:
    """``unit-tests`` (from any environment) or ``acceptance@preprod`` (from that environment)."""

    type: str
    environment: str | None = None

    @classmethod
    def parse(cls, text: str) -> AttestationRequirement:
        kind, sep, env = text.partition("@")
        if not kind or (sep and not env):
            raise InvalidInput(f"attestation requirement {text!r} must be TYPE or TYPE@ENVIRONMENT")
        return cls(kind, env or None)

    def __str__(self) -> str:
        return f"{self.type}@{self.environment}" if self.environment else self.type


@dataclass(frozen=True, slots=True)
class TrustedBuilder:
    """A builder whose SLSA provenance a registry accepts: ``key:NAME`` (a provenance statement signed
    with that key under [keys]), ``robot:NAME`` (provenance the server signed for a push that robot
    made from a CI pipeline) or ``robot:NAME@PROJECT`` (only from that pipeline project). A robot's
    token proves who pushed; the pipeline is what that robot declared."""

    kind: str
    name: str
    project: str | None = None

    @classmethod
    def parse(cls, text: str) -> TrustedBuilder:
        kind, sep, rest = text.partition(":")
        name, at, project = rest.partition("@")
        valid = kind in {"key", "robot"} and sep and name and not (at and (kind == "key" or not project))
        if not valid or any(c.isspace() for c in text):
            raise InvalidInput(f"trusted builder {text!r} must be key:NAME, robot:NAME or robot:NAME@PROJECT")
        return cls(kind, name, project or None)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" + (f"@{self.project}" if self.project else "")


@dataclass(frozen=True, slots=True)
class Gates:
    attestations: tuple[AttestationRequirement, ...] = ()
    approvals: int = 0


@dataclass(frozen=True, slots=True)
class RegistryPolicy:
    name: str
    direct_push: bool = True
    overwrite_snapshots: bool = False
    seal_on_promotion: bool = True
    movable_tags: bool = False  # tags that are not versions (latest, main) may be pushed and moved
    allow_delete: bool = False  # manifests, tags and blob links may be deleted (never sealed ones)
    trusted_keys: tuple[str, ...] = ()  # names of the keys whose signatures count here
    require_signature: bool = False  # promotion into this registry needs one such signature
    require_signature_to_pull: bool = False  # and so does pulling an artifact version from it
    require_sbom: bool = False  # promotion into this registry needs an SBOM (supplied or generated)
    trusted_builders: tuple[TrustedBuilder, ...] = ()  # promotion needs SLSA provenance from one of them
    max_severity: Severity | None = None  # promotion refused when a known vulnerability is above this
    promote_from: tuple[str, ...] = ()
    promotion_gates: Gates = Gates()
    retention: RetentionRules = field(default_factory=RetentionRules)


@dataclass(frozen=True, slots=True)
class EnvironmentPolicy:
    name: str
    registry: str
    requires_previous: bool = True
    gates: Gates = Gates()
    robots_may_approve: bool = False

    def approver_problem(self, kind: str) -> str | None:
        """Why this principal may not approve here at all (before four eyes counts anything): an
        approval is a human decision, so a robot (a CI identity) approves only where the operator
        said so, even when it holds ``approve@ENV``."""
        if kind == "robot" and not self.robots_may_approve:
            return (
                f"it is a robot, and an approval for {self.name} is a human decision "
                f"([environments.{self.name}] robots_may_approve = true allows robots)"
            )
        return None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the gates look at for one artifact, gathered by a service in one transaction."""

    attachments: Sequence[Attachment] = ()
    registries: frozenset[str] = frozenset()
    succeeded_in: frozenset[str] = frozenset()
    held_in: frozenset[str] = frozenset()
    promoters: Mapping[str, str] = field(default_factory=dict)  # registry -> who promoted the artifact there
    sboms: int = 0
    sbom_pending: bool = False  # none yet, and one is being generated
    vulnerabilities: Mapping[str, Severity] = field(default_factory=dict)  # advisory id -> severity


@dataclass(frozen=True, slots=True)
class FourEyes:
    """Four eyes: an approval counts only from someone other than the artifact's pusher and the one
    who promoted it into the registry the environment reads (``promoter``; None for a promotion
    gate, or where nobody promoted it)."""

    pusher: str
    promoter: str | None = None
    registry: str = ""

    @classmethod
    def reading(cls, artifact: Artifact, evidence: Evidence, registry: str) -> FourEyes:
        """The rule for an environment that reads ``registry``."""
        return cls(artifact.pushed_by, evidence.promoters.get(registry), registry)

    def why_not(self, approver: str) -> str | None:
        """What ``approver`` did that keeps their approval from counting, or None when it counts."""
        if approver == self.pusher:
            return "pushed"
        if approver == self.promoter:
            return f"promoted into {self.registry}"
        return None

    def approvers(self, attachments: Iterable[Attachment], environment: str) -> set[str]:
        return {
            a.actor
            for a in attachments
            if a.kind is AttachmentKind.APPROVAL and a.environment == environment and self.why_not(a.actor) is None
        }

    def __str__(self) -> str:
        return f"the pusher ({self.pusher})" + (f" and the promoter ({self.promoter})" if self.promoter else "")


@dataclass(frozen=True, slots=True)
class Policy:
    registries: Mapping[str, RegistryPolicy]
    environments: tuple[EnvironmentPolicy, ...]
    ceilings: Mapping[Channel, str] = field(default_factory=dict)
    rollback_window: int = DEFAULT_ROLLBACK_WINDOW  # the last K deployed versions retention never deletes

    def __post_init__(self) -> None:
        names = [e.name for e in self.environments]
        problems = [
            f"environment {e.name!r} reads unknown registry {e.registry!r}"
            for e in self.environments
            if e.registry not in self.registries
        ]
        problems += [f"ceiling of {c} is unknown environment {e!r}" for c, e in self.ceilings.items() if e not in names]
        problems += [
            f"registry {r.name!r} promotes from unknown registry {s!r}"
            for r in self.registries.values()
            for s in r.promote_from
            if s not in self.registries
        ]
        if len(set(names)) != len(names):
            problems.append("environment names must be unique")
        if problems:
            raise InvalidInput("invalid policy: " + "; ".join(problems), problems=problems)

    def registry(self, name: str) -> RegistryPolicy:
        try:
            return self.registries[name]
        except KeyError:
            known = ", ".join(sorted(self.registries))
            raise UnknownRegistry(f"unknown registry {clip(name)!r} (known: {known})", registry=clip(name)) from None

    def environment(self, name: str) -> EnvironmentPolicy:
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments)
        raise UnknownEnvironment(f"unknown environment {clip(name)!r} (known: {known})", environment=clip(name))

    def rank(self, environment: str) -> int:
        return [e.name for e in self.environments].index(self.environment(environment).name)

    def previous(self, environment: str) -> EnvironmentPolicy | None:
        i = self.rank(environment)
        return self.environments[i - 1] if i > 0 else None

    def environments_of(self, registry: str) -> tuple[EnvironmentPolicy, ...]:
        return tuple(e for e in self.environments if e.registry == registry)

    def ceiling_for(self, channel: Channel, max_env: str | None) -> str:
        """The ceiling fixed at push: the channel's default, lowered (never raised) by ``--max-env``."""
        default = self.ceilings.get(channel, self.environments[-1].name)
        if max_env is None:
            return default
        if self.rank(max_env) > self.rank(default):
            raise InvalidInput(
                f"--max-env can only lower the ceiling: a {channel} build stops at {default}, not {max_env}",
                max_env=max_env,
            )
        return max_env

    # -- gates -------------------------------------------------------------------------------

    def promotion_problems(self, artifact: Artifact, evidence: Evidence, target: str) -> list[Problem]:
        registry = self.registry(target)
        problems: list[Problem] = []
        sources = set(registry.promote_from)
        if not sources:
            problems.append(Problem("source", f"registry {target} accepts no promotions"))
        elif not sources & evidence.registries:
            where = ", ".join(sorted(evidence.registries)) or "no registry"
            problems.append(
                Problem(
                    "source",
                    f"registry {target} accepts promotions from {', '.join(sorted(sources))}; {artifact.ref} is in {where}",
                )
            )
        served = self.environments_of(target)
        if served and all(self.rank(e.name) > self.rank(artifact.ceiling) for e in served):
            problems.append(
                Problem(
                    "ceiling",
                    f"{artifact.ref} is a {artifact.channel} build whose ceiling is {artifact.ceiling}; "
                    f"registry {target} serves {', '.join(e.name for e in served)}",
                )
            )
        if registry.require_signature:
            problems += signature_problems(registry, artifact, evidence.attachments)
        if registry.trusted_builders:
            problems += builder_problems(registry, artifact, evidence.attachments)
        if registry.require_sbom and not evidence.sboms:
            problems.append(Problem("sbom", _no_sbom(artifact, evidence, "attach one with `hoist sbom attach`")))
        if registry.max_severity is not None:
            problems += vulnerability_problems(registry.max_severity, artifact, evidence)
        problems += _gate_problems(registry.promotion_gates, artifact, evidence, target, FourEyes(artifact.pushed_by))
        return problems

    def deployment_problems(self, artifact: Artifact, evidence: Evidence, environment: str) -> list[Problem]:
        env = self.environment(environment)
        problems: list[Problem] = []
        if env.registry not in evidence.registries:
            problems.append(
                Problem(
                    "registry",
                    f"{environment} reads registry {env.registry}, which does not hold {artifact.ref}"
                    + (f": promote it with --to {env.registry}" if evidence.registries else ""),
                )
            )
        if self.rank(environment) > self.rank(artifact.ceiling):
            problems.append(Problem("ceiling", f"{artifact.ref} may go no further than {artifact.ceiling} (its ceiling)"))
        before = self.previous(environment)
        if env.requires_previous and before and before.name not in evidence.succeeded_in:
            problems.append(
                Problem(
                    "previous-environment",
                    f"{artifact.ref} has no successful deployment in {before.name}, the environment before {environment}",
                )
            )
        if environment in evidence.held_in:
            problems.append(
                Problem(
                    "hold",
                    f"{artifact.ref} is held back from {environment} after a rollback: approve it for {environment} again",
                )
            )
        four_eyes = FourEyes.reading(artifact, evidence, env.registry)
        problems += _gate_problems(env.gates, artifact, evidence, environment, four_eyes)
        return problems


def _gate_problems(
    gates: Gates, artifact: Artifact, evidence: Evidence, approvals_for: str, four_eyes: FourEyes
) -> list[Problem]:
    problems: list[Problem] = []
    for req in gates.attestations:
        latest = latest_attestation(evidence.attachments, req)
        if latest is None:
            problems.append(Problem(f"attestation:{req}", f"no {req} attestation for {artifact.ref}"))
        elif latest.result is not Result.PASS:
            problems.append(
                Problem(
                    f"attestation:{req}",
                    f"the latest {req} attestation for {artifact.ref} is {latest.result}",
                )
            )
    if gates.approvals:
        approvers = four_eyes.approvers(evidence.attachments, approvals_for)
        if len(approvers) < gates.approvals:
            problems.append(
                Problem(
                    "approvals",
                    f"{approvals_for} needs {gates.approvals} approval(s) from someone other than {four_eyes}; "
                    f"it has {len(approvers)}" + (f" ({', '.join(sorted(approvers))})" if approvers else ""),
                )
            )
    return problems


def signature_problems(registry: RegistryPolicy, artifact: Artifact, attachments: Iterable[Attachment]) -> list[Problem]:
    """A valid signature from a key ``registry`` trusts, or the reason there is none."""
    trusted = set(registry.trusted_keys)
    signatures = [a for a in attachments if a.kind is AttachmentKind.SIGNATURE]
    if any(a.result is Result.PASS and a.details.get("key") in trusted for a in signatures):
        return []
    keys = ", ".join(sorted(trusted)) or "none configured"
    seen = f" ({len(signatures)} signature(s) found, none by those keys)" if signatures else ""
    return [Problem("signature", f"{artifact.ref} has no valid signature from a key {registry.name} trusts ({keys}){seen}")]


@dataclass(frozen=True, slots=True)
class Provenance:
    """A SLSA provenance statement bound to the artifact, as the builder gate weighs it: signed by a
    client's key (``key``: the configured key that verifies it, None when none does), or by the
    server for a push (``pusher``, its ``pusher_kind`` and the pipeline's ``project``)."""

    builder: str
    key: str | None = None
    pusher: str | None = None
    pusher_kind: str | None = None
    project: str | None = None

    def built_by(self, trusted: TrustedBuilder) -> bool:
        if trusted.kind == "key":
            return self.key == trusted.name
        return (
            self.pusher == trusted.name
            and self.pusher_kind == "robot"
            and (trusted.project is None or self.project == trusted.project)
        )

    def __str__(self) -> str:
        if self.pusher is not None:
            source = f" from {self.project}" if self.project else ""
            return f"builder {self.builder} signed by the server for a push by {self.pusher_kind} {self.pusher}{source}"
        if self.key is not None:
            return f"builder {self.builder} signed by key {self.key}"
        return f"builder {self.builder} signed by no configured key"


def provenance_of(attachments: Iterable[Attachment]) -> list[Provenance]:
    """The provenance among an artifact's evidence: the server's (recorded with the pusher at a push)
    and every client-signed provenance statement checked on arrival."""
    found = []
    for x in attachments:
        builder = str(x.details.get("builder") or "(none named)")
        # only a push records the pusher's kind: `hoist attest --type slsa-provenance` is no provenance
        if x.kind is AttachmentKind.ATTESTATION and x.type == a.PROVENANCE_TYPE and "pusher_kind" in x.details:
            project = x.pipeline.project if x.pipeline else None
            found.append(Provenance(builder, None, x.actor, str(x.details["pusher_kind"]), project))
        elif x.kind is AttachmentKind.SIGNATURE and x.details.get("predicate_type") == a.PROVENANCE:
            key = x.details.get("key") if x.result is Result.PASS else None
            found.append(Provenance(builder, str(key) if key else None))
    return found


def builder_problems(registry: RegistryPolicy, artifact: Artifact, attachments: Iterable[Attachment]) -> list[Problem]:
    """SLSA provenance from a builder ``registry`` trusts; provenance from anyone else does not count."""
    found = provenance_of(attachments)
    if any(p.built_by(t) for p in found for t in registry.trusted_builders):
        return []
    seen = "; ".join(f"{p}, not trusted" for p in found) or "none"
    trusted = ", ".join(str(t) for t in registry.trusted_builders)
    return [
        Problem(
            "provenance",
            f"no SLSA provenance from a trusted builder for {artifact.ref} (found: {seen}); "
            f"{registry.name} trusts {trusted}",
        )
    ]


def _no_sbom(artifact: Artifact, evidence: Evidence, then: str) -> str:
    if evidence.sbom_pending:
        return f"{artifact.ref}'s SBOM is pending (being generated): try again when it is done"
    return f"{artifact.ref} has no SBOM: {then}" if then.startswith("attach") else f"{artifact.ref} has no SBOM, {then}"


def vulnerability_problems(ceiling: Severity, artifact: Artifact, evidence: Evidence) -> list[Problem]:
    above = {i: sev for i, sev in evidence.vulnerabilities.items() if sev > ceiling}
    if not evidence.sboms and (ceiling < Severity.UNKNOWN or evidence.sbom_pending):
        return [Problem("vulnerabilities", _no_sbom(artifact, evidence, "so its vulnerabilities cannot be checked"))]
    if not above:
        return []
    worst = max(above.values())
    listed = ", ".join(f"{i} ({sev.name.lower()})" for i, sev in sorted(above.items(), key=lambda x: (-x[1], x[0]))[:10])
    return [
        Problem(
            "vulnerabilities",
            f"{artifact.ref} has {len(above)} known vulnerabilit{'y' if len(above) == 1 else 'ies'} above "
            f"{ceiling.name.lower()} (worst: {worst.name.lower()}): {listed}",
        )
    ]


def latest_attestation(attachments: Iterable[Attachment], req: AttestationRequirement) -> Attachment | None:
    """The most recent attestation of that type (and environment): a later failure overrides a pass."""
    matching = [
        a
        for a in attachments
        if a.kind is AttachmentKind.ATTESTATION
        and a.type == req.type
        and (req.environment is None or a.environment == req.environment)
    ]
    return max(matching, key=lambda a: (a.created_at, a.id)) if matching else None
