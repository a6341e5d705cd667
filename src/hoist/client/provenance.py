"""The provenance chain of an artifact, verified on the client: digest, build, SBOM, signatures,
attestations, promotions and deployments. Every signed link is checked here with public keys (the
server's, pinned with --server-key or fetched, and the signing keys), never taken on the server's word."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from hoist.client import HoistClient, oci
from hoist.client.errors import ServerUnreachable
from hoist.domain import attestations as a
from hoist.domain.digests import Digest
from hoist.domain.errors import HoistError
from hoist.domain.sbom import CYCLONEDX_MEDIA_TYPE, SPDX_MEDIA_TYPE
from hoist.signing import cosign, dsse
from hoist.signing import keys as k

Transfer = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
_SHOWN_FROM = 8 * 1024 * 1024  # a blob at least this large gets a progress bar
_PREDICATES = {a.TEST_RESULT: "test-result", a.PROVENANCE: "provenance", a.APPROVAL: "approval", a.VSA: "promotion"}


@dataclass(slots=True)
class Link:
    kind: str  # digest, build, sbom, signature, attestation, promotion, deployment, environment
    what: str
    ok: bool
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Chain:
    ref: str
    digest: str
    environment: str | None
    server_key: str
    links: list[Link]

    @property
    def ok(self) -> bool:
        return all(link.ok for link in self.links)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "digest": self.digest,
            "environment": self.environment,
            "server_key": self.server_key,
            "verified": self.ok,
            "links": [asdict(link) for link in self.links],
        }


def build_chain(
    client: HoistClient,
    ref: str,
    *,
    environment: str | None = None,
    server_key: bytes | None = None,
    signing_keys: Mapping[str, bytes] | None = None,
    transfer: Transfer | None = None,
) -> Chain:
    """``transfer(description, size)`` shows the progress of re-hashing a large blob (the CLI's bars)."""
    published = client.keys()
    pinned = server_key or published["server"]["public_key"].encode()
    server = {"server": k.load_public(pinned)}
    trusted: dict[str, ec.EllipticCurvePublicKey] = {
        name: k.load_public(entry["public_key"].encode()) for name, entry in published["keys"].items()
    }
    trusted.update({name: k.load_public(pem) for name, pem in (signing_keys or {}).items()})
    artifact = client.artifact(ref)
    digest, package = artifact["digest"], artifact["package"]
    registries = [p["registry"] for p in artifact["placements"]]
    links: list[Link] = []
    target = _environment_registry(client, environment) if environment else None
    if environment:
        held = target in registries
        links.append(Link("environment", f"{environment} reads {target}", held, "" if held else f"{ref} is not in {target}"))
    repository = f"{(target if target in registries else registries[0])}/{package}" if registries else ""
    links.append(_digest_link(client, repository, digest))
    links.append(_bytes_link(client, repository, Digest.parse(digest), transfer))
    links.append(_build_link(artifact))
    links += _sbom_links(client, repository, digest)
    envelopes = {x["details"]["envelope"]: x for x in artifact["attachments"] if "envelope" in x["details"]}
    for envelope, attachment in sorted(envelopes.items(), key=lambda e: e[1]["id"]):
        where = [f"{r}/{package}" for r in dict.fromkeys([attachment["details"].get("to"), *registries]) if r]
        signers = {**trusted, **server} if attachment["details"].get("signed_by") else server  # approver-signed
        links.append(_statement_link(client, where, digest, envelope, attachment, signers))
    for attachment in artifact["attachments"]:
        if attachment["kind"] == "signature":
            links.append(_signature_link(client, digest, package, attachment, trusted))
    if target and not any(
        x["type"] == "verification-summary" and x["details"].get("to") == target for x in envelopes.values()
    ):
        first = registries and registries[0] == target
        if not first:  # pushed straight into it: no promotion to prove
            links.append(Link("promotion", f"into {target}", False, "no verification summary for a promotion into it"))
    for d in artifact["deployments"]:
        if environment and d["environment"] != environment:
            continue
        links.append(
            Link(
                "deployment",
                f"{d['environment']} #{d['id']} {d['status']}",
                d["digest"] == digest,
                f"by {d['actor']} at {d['started_at']}" + ("" if d["digest"] == digest else f"; ran {d['digest']}"),
                {"environment": d["environment"], "status": d["status"], "actor": d["actor"], "started_at": d["started_at"]},
            )
        )
    return Chain(ref, digest, environment, k.key_id(server["server"]), links)


def _environment_registry(client: HoistClient, environment: str) -> str:
    for env in client.request("GET", "/environments").json():
        if env["name"] == environment:
            return str(env["registry"])
    raise HoistError(f"unknown environment {environment!r}")


def _digest_link(client: HoistClient, repository: str, digest: str) -> Link:
    raw = oci.get_manifest(client, repository, digest) if repository else None
    if raw is None:
        return Link("digest", digest, False, f"{repository or 'no registry'} does not serve it")
    actual = str(Digest.of(raw, Digest.parse(digest).algorithm))
    return Link(
        "digest",
        digest,
        actual == digest,
        f"manifest served by {repository}" + ("" if actual == digest else f" hashes to {actual}"),
    )


def _bytes_link(client: HoistClient, repository: str, digest: Digest, transfer: Transfer | None) -> Link:
    """Every blob the artifact is made of (manifests, an index's children, configs, layers) streamed
    through this machine and re-hashed, never written to disk: the server's word that it holds
    the right bytes is not proof, and a deploy job must not pass over bytes that rotted."""
    if not repository:
        return Link("bytes", "not re-hashed", False, "no registry serves the artifact")
    blobs = size = 0
    pending, seen = [digest], set()
    while pending:
        manifest = pending.pop(0)
        raw = oci.get_manifest(client, repository, str(manifest))
        if raw is None or Digest.of(raw, manifest.algorithm) != manifest:
            why = "is not served" if raw is None else "does not hash to its digest"
            return Link("bytes", f"manifest {manifest}", False, f"{manifest}: the manifest {why} by {repository}")
        document = json.loads(raw)
        pending += [Digest.parse(child["digest"]) for child in document.get("manifests", [])]
        for descriptor in [document.get("config"), *document.get("layers", [])]:
            if not descriptor or descriptor["digest"] in seen:
                continue
            seen.add(descriptor["digest"])
            problem = _blob_problem(client, repository, descriptor, transfer)
            if problem is not None:
                return Link("bytes", f"blob {descriptor['digest']}", False, problem)
            blobs += 1
            size += int(descriptor["size"])
    return Link("bytes", f"{blobs} blob(s), {size} bytes", True, f"re-hashed here from {repository}")


def _blob_problem(client: HoistClient, repository: str, descriptor: dict[str, Any], transfer: Transfer | None) -> str | None:
    """What is wrong with the bytes of a blob a manifest names, or None when they hash right."""
    expected, size = Digest.parse(descriptor["digest"]), int(descriptor["size"])
    try:
        if transfer is None or size < _SHOWN_FROM:
            got = oci.hash_blob(client, repository, expected)
        else:
            with transfer(f"⇣ {expected.short}", size) as advance:
                got = oci.hash_blob(client, repository, expected, advance)
    except HoistError as exc:
        return f"{expected}: {exc}"
    if got is None:
        if descriptor.get("urls"):  # a foreign layer the server never held: fetched from its URLs
            return None
        return f"{expected}: {repository} does not serve it"
    actual, received = got
    if actual != expected or received != size:
        return f"{expected}: {received} bytes arrived, hashing to {actual} (expected {size} bytes)"
    return None


def _build_link(artifact: dict[str, Any]) -> Link:
    pipeline = artifact.get("pipeline") or {}
    where = f"pipeline {pipeline.get('provider')}:{pipeline.get('id')}" if pipeline else "no CI pipeline"
    commit = f" from commit {pipeline['commit']}" if pipeline.get("commit") else ""
    return Link("build", f"pushed by {artifact['pushed_by']} at {artifact['pushed_at']}", True, where + commit, pipeline)


def _sbom_links(client: HoistClient, repository: str, digest: str) -> list[Link]:
    links = []
    for d in oci.referrers(client, repository, digest) if repository else []:
        if d.get("artifactType") not in {CYCLONEDX_MEDIA_TYPE, SPDX_MEDIA_TYPE}:
            continue
        raw = oci.get_manifest(client, repository, str(d["digest"]))
        layers = json.loads(raw)["layers"] if raw else []
        ok = bool(layers) and oci.get_blob(client, repository, layers[0]["digest"]) is not None
        generated = (d.get("annotations") or {}).get("dev.hoist.sbom.generated") == "true"
        links.append(
            Link("sbom", f"{d['artifactType']} {'generated at push' if generated else 'supplied'}", ok, str(d["digest"]))
        )
    if not links:
        links.append(Link("sbom", "none", True, "no SBOM attached"))
    return links


def _statement_link(
    client: HoistClient,
    repositories: list[str],
    digest: str,
    envelope: str,
    attachment: dict[str, Any],
    keyring: dsse.Keyring,
) -> Link:
    raw, problem = None, f"no registry holding {digest} holds envelope {envelope}"
    for repository in repositories:
        try:
            raw = oci.get_blob(client, repository, envelope)
        except ServerUnreachable:
            raise  # no server is no answer about this link
        except HoistError as exc:
            raw, problem = None, str(exc)
            break
        if raw is not None:
            break
    if raw is None:
        kind = "promotion" if attachment["type"] == "verification-summary" else "attestation"
        return Link(kind, attachment["type"], False, problem)
    opened = dsse.open_envelope(raw, keyring)
    kind = _PREDICATES.get(opened.predicate_type or "", "attestation")
    what = (
        attachment["type"]
        if kind != "promotion"
        else f"{attachment['details'].get('from')} → {attachment['details'].get('to')}"
    )
    if opened.problem:
        return Link(kind, what, False, opened.problem)
    if digest not in opened.subjects:
        return Link(kind, what, False, f"the statement is about {', '.join(opened.subjects)}, not {digest}")
    return _describe(kind, what, opened, attachment)


def _describe(kind: str, what: str, opened: dsse.Opened, attachment: dict[str, Any]) -> Link:
    predicate = opened.predicate
    if kind == "promotion":
        decision = predicate.get("hoist", {})
        detail = (
            f"by {decision.get('actor')} at {predicate.get('timeVerified')}; gates: {', '.join(decision.get('gates', []))}"
        )
        approvers = decision.get("approvers") or []
        if approvers:
            detail += f"; approvers: {', '.join(approvers)}"
        return Link(kind, what, True, detail, {"decision": decision, "policy": predicate.get("policy")})
    if kind == "test-result":
        return Link(
            kind, what, True, f"{predicate.get('result')} (by {attachment['actor']})", {"result": predicate.get("result")}
        )
    if kind == "approval":
        who = predicate.get("approver", {}).get("id")
        return Link(kind, f"approval for {predicate.get('toEnvironment')}", True, f"by {who}, signed with key {opened.key}")
    return Link(kind, what, True, f"{opened.predicate_type} signed by the server")


def _signature_link(
    client: HoistClient,
    digest: str,
    package: str,
    attachment: dict[str, Any],
    keyring: Mapping[str, ec.EllipticCurvePublicKey],
) -> Link:
    details = attachment["details"]
    repository = f"{details.get('registry')}/{package}"
    carrier = str(details.get("carrier"))
    raw = oci.get_manifest(client, repository, carrier)
    if raw is None:
        return Link("signature", attachment["type"], False, f"{repository} no longer holds signature manifest {carrier}")

    def read(blob: str) -> bytes:
        data = oci.get_blob(client, repository, blob)
        if data is None:
            raise HoistError(f"blob {blob} is missing")
        return data

    checks = [c for c in cosign.check_manifest(json.loads(raw), read, keyring) if c.subject == digest]
    good = [c for c in checks if c.key]
    if good:
        return Link("signature", attachment["type"], True, f"verified with key {good[0].key}", {"key": good[0].key})
    reason = checks[0].reason if checks else "the signature does not name this digest"
    return Link("signature", attachment["type"], False, reason or "no trusted key verifies it")
