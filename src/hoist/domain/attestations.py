"""in-toto statements in DSSE envelopes, as Hoist issues them (stdlib only: the signing itself is a
port). The VSA Hoist signs at every promotion is SLSA's verification summary
(https://slsa.dev/verification_summary/v1), with Hoist's own account of the decision under
``predicate.hoist``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from enum import Enum
from typing import TYPE_CHECKING, Any

from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput
from hoist.domain.junit import summarize_junit
from hoist.domain.models import Result

if TYPE_CHECKING:  # policy reads the provenance predicate's names from here
    from hoist.domain.policy import Policy

STATEMENT = "https://in-toto.io/Statement/v1"
IN_TOTO = "application/vnd.in-toto+json"
DSSE_LAYER = "application/vnd.dsse.envelope.v1+json"
VSA = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = "https://hoist.dev/promotion-verifier"


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def statement(name: str, digest: Digest, predicate_type: str, predicate: dict[str, Any]) -> bytes:
    return _compact(
        {
            "_type": STATEMENT,
            "subject": [{"name": name, "digest": {digest.algorithm: digest.hex}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        }
    )


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is signed, never the payload alone."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def envelope(payload: bytes, signature: bytes, *, payload_type: str = IN_TOTO, key_id: str = "") -> bytes:
    return _compact(
        {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": payload_type,
            "signatures": [{"keyid": key_id, "sig": base64.b64encode(signature).decode()}],
        }
    )


def policy_digest(policy: Policy) -> Digest:
    """The policy in force, as a digest: a VSA names the exact rules its decision applied."""
    return Digest.of(_compact(_plain(dataclasses.asdict(policy))))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def verification_summary(
    *,
    resource: str,
    policy: Digest,
    time_verified: str,
    levels: list[str],
    inputs: list[dict[str, Any]],
    decision: dict[str, Any],
    version: str,
) -> dict[str, Any]:
    return {
        "verifier": {"id": VERIFIER_ID, "version": {"hoist": version}},
        "timeVerified": time_verified,
        "resourceUri": resource,
        "policy": {"uri": "hoist:policy", "digest": {policy.algorithm: policy.hex}},
        "inputAttestations": inputs,
        "verificationResult": "PASSED",
        "verifiedLevels": levels,
        "dependencyLevels": {},
        "slsaVersion": "1.0",
        "hoist": decision,
    }


def record_digest(record: dict[str, Any]) -> Digest:
    """A digest for evidence kept as a database record rather than a blob (VSA inputAttestations)."""
    return Digest.of(_compact(record))


TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"
_COUNTS = ("tests", "failures", "errors", "skipped")
PROVENANCE = "https://slsa.dev/provenance/v1"
PROVENANCE_TYPE = "slsa-provenance"  # the attestation type of the provenance the server signs at a push
APPROVAL = "https://hoist.dev/attestation/approval/v1"  # no standard predicate exists for approvals
BUILD_TYPE = "https://hoist.dev/build/ci/v1"


def test_result(
    *,
    result: str,
    kind: str,
    environment: str | None,
    url: str | None,
    configuration: list[dict[str, Any]],
    failed: list[str],
    counts: dict[str, Any] | None,
) -> dict[str, Any]:
    """in-toto test-result v0.1. ``result`` is PASSED, WARNED or FAILED; Hoist's own fields (the
    attestation type the gates look for, the environment it ran in, the counts) sit under ``hoist``."""
    predicate: dict[str, Any] = {"result": result, "configuration": configuration, "failedTests": failed}
    if url:
        predicate["url"] = url
    predicate["hoist"] = {"type": kind, "environment": environment, **({"counts": counts} if counts else {})}
    return predicate


def test_result_of(
    *, kind: str, actor: str, environment: str | None, url: str | None, passed: bool | None, junit: bytes | None
) -> tuple[dict[str, Any], bool, dict[str, object]]:
    """The test-result predicate for a given outcome or JUnit report, the same on the server and on a
    client that signs it: (predicate, passed, details). A JUnit report decides the outcome itself."""
    details: dict[str, object] = {}
    configuration: list[dict[str, Any]] = []
    failed: list[str] = []
    if junit is not None:
        summary = summarize_junit(junit)
        passed = summary.result is Result.PASS
        details = {"source": "junit", **summary.as_dict()}
        report = Digest.of(junit)
        configuration = [{"name": "junit.xml", "digest": {report.algorithm: report.hex}}]
        failed = list(summary.failed_cases)
    if passed is None:
        raise InvalidInput("give exactly one of --result and --junit")
    predicate = test_result(
        result="PASSED" if passed else "FAILED",
        kind=kind,
        environment=environment,
        url=url,
        configuration=configuration,
        failed=failed,
        counts={k: v for k, v in details.items() if k in _COUNTS},
    )
    predicate["hoist"]["actor"] = actor
    return predicate, passed, details


def provenance(
    *,
    provider: str,
    pipeline: dict[str, str],
    builder: str,
    started: str,
) -> dict[str, Any]:
    """SLSA provenance v1 from the CI run that pushed the artifact, as the server observed it."""
    source = []
    if pipeline.get("commit"):
        uri = f"git+{pipeline['project']}" if pipeline.get("project") else "git"
        if pipeline.get("ref"):
            uri += f"@{pipeline['ref']}"
        source.append({"uri": uri, "digest": {"gitCommit": pipeline["commit"]}})
    external = {k: pipeline[k] for k in ("project", "ref", "commit", "job") if pipeline.get(k)}
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {"provider": provider, **external},
            "internalParameters": {},
            "resolvedDependencies": source,
        },
        "runDetails": {
            "builder": {"id": builder},
            "metadata": {"invocationId": pipeline.get("url") or f"{provider}:{pipeline['id']}", "startedOn": started},
        },
    }


_BUILDERS = {
    "github-actions": "https://github.com/actions/runner",
    "gitlab-ci": "https://gitlab.com/gitlab-org/gitlab-runner",
    "jenkins": "https://www.jenkins.io",
}


def builder_id(provider: str) -> str:
    return _BUILDERS.get(provider, f"https://hoist.dev/builders/{provider}")


def builder_of(predicate: dict[str, Any]) -> str | None:
    """``runDetails.builder.id`` of a SLSA provenance v1 predicate (bounded: it is the signer's text)."""
    run = predicate.get("runDetails")
    builder = run.get("builder") if isinstance(run, dict) else None
    value = builder.get("id") if isinstance(builder, dict) else None
    return value[:256] if isinstance(value, str) and value else None


def approval(
    *,
    approver: str,
    environment: str,
    time: str,
    comment: str | None,
    counts: bool | None,
    reviewed: list[dict[str, Any]],
) -> dict[str, Any]:
    """An approval; ``counts`` is the server's four-eyes verdict (absent when the approver signs it)."""
    predicate: dict[str, Any] = {
        "approver": {"id": approver},
        "decision": "APPROVED",
        "toEnvironment": environment,
        "timeApproved": time,
        "comment": comment,
        "reviewedAttestations": reviewed,
    }
    if counts is not None:
        predicate["counts"] = counts
    return predicate


CHECKPOINT = "application/vnd.hoist.audit-checkpoint.v1+json"


def checkpoint(*, seq: int, head: str, time: str, key_id: str) -> bytes:
    """The audit chain's head at a moment, as the server signs it: kept outside the server, it exposes
    any later rewrite of the history up to ``seq`` (a rewritten chain cannot reproduce ``head``)."""
    return _compact({"seq": seq, "head": head, "time": time, "server_key": key_id})
