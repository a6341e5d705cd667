"""Health and the policy in force."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hoist.api.bodies import BoundedRoute
from hoist.domain.policy import Policy


def router(policy: Policy, version: str, keys: dict[str, Any]) -> APIRouter:
    api = APIRouter(tags=["system"], route_class=BoundedRoute)

    @api.get("/keys")
    def public_keys() -> dict[str, Any]:
        """The server's public key (it signs verification summaries) and the keys whose signatures
        the server recognises, with cosign key ids: everything needed to verify offline."""
        return keys

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": version}

    @api.get("/registries")
    def registries() -> list[dict[str, Any]]:
        """Each registry's policy."""
        return [
            {
                "name": r.name,
                "direct_push": r.direct_push,
                "overwrite_snapshots": r.overwrite_snapshots,
                "seal_on_promotion": r.seal_on_promotion,
                "promote_from": list(r.promote_from),
                "trusted_keys": list(r.trusted_keys),
                "require_signature": r.require_signature,
                "require_signature_to_pull": r.require_signature_to_pull,
                "require_sbom": r.require_sbom,
                "trusted_builders": [str(b) for b in r.trusted_builders],
                "max_severity": r.max_severity.name.lower() if r.max_severity is not None else None,
                "promotion_gates": {"attestations": [str(a) for a in r.promotion_gates.attestations]},
                "environments": [e.name for e in policy.environments_of(r.name)],
            }
            for r in policy.registries.values()
        ]

    @api.get("/environments")
    def environments() -> list[dict[str, Any]]:
        """The environment chain, in order, with each one's registry and gates."""
        ceilings = {
            env: [str(c) for c, e in policy.ceilings.items() if e == env] for env in (e.name for e in policy.environments)
        }
        return [
            {
                "name": e.name,
                "registry": e.registry,
                "previous": prev.name if (prev := policy.previous(e.name)) else None,
                "requires_previous": e.requires_previous,
                "attestations": [str(a) for a in e.gates.attestations],
                "approvals": e.gates.approvals,
                "ceiling_of": ceilings[e.name],
            }
            for e in policy.environments
        ]

    return api
