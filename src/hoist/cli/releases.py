"""hoist promote, attest, approve."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from hoist.cli.context import Cli, common_options
from hoist.domain.errors import InvalidInput
from hoist.domain.models import ArtifactRef


@click.command()
@click.argument("ref")
@click.option("--to", "to", required=True, help="The registry to promote into.")
@click.option("--dry-run", is_flag=True, help="Check every gate and say what would happen; change nothing.")
@click.option("--reason", default=None, help="Why, for the audit trail.")
@common_options
def promote(cli: Cli, ref: str, to: str, dry_run: bool, reason: str | None) -> None:
    """Promote NAME@VERSION into another registry: same digest, no byte copied, sealed there."""
    ArtifactRef.parse(ref)
    result = cli.client().promote(ref, to=to, dry_run=dry_run, reason=reason)
    a = result["artifact"]
    words = {"promoted": "promoted", "already-promoted": "already in", "planned": "would promote"}

    def human() -> None:
        target = f"{a['package']}@{a['version']}"
        if result["status"] == "already-promoted":
            cli.out.print(f"{target} is already in {to}: nothing to do")
            return
        seal = " (sealed)" if result["sealed"] else ""
        cli.out.print(f"{words[result['status']]} [bold]{target}[/] {a['digest']} → {to}{seal}")
        cli.out.print("  gates passed: " + ", ".join(result["gates"]))

    cli.emit(result, human)


@click.command()
@click.argument("ref")
@click.option("--type", "type_", required=True, help="What was checked, e.g. unit-tests, acceptance, pentest.")
@click.option("--result", type=click.Choice(["pass", "fail"]), default=None, help="The outcome.")
@click.option(
    "--junit",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A JUnit XML report; the server derives pass or fail from it.",
)
@click.option("--env", "environment", default=None, help="The environment the check ran in.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Sign the test result with your (or CI's) own key (its public half must be under the server's [keys]).",
)
@click.option("--password-env", default="COSIGN_PASSWORD", show_default=True, help="Variable holding the key's password.")
@common_options
def attest(
    cli: Cli,
    ref: str,
    type_: str,
    result: str | None,
    junit: Path | None,
    environment: str | None,
    key_file: Path | None,
    password_env: str,
) -> None:
    """Attach evidence (a typed pass/fail result) to NAME@VERSION's digest. With --key the result is an
    in-toto test-result statement you sign yourself."""
    ArtifactRef.parse(ref)
    if (result is None) == (junit is None):
        raise InvalidInput("give exactly one of --result and --junit")
    report = junit.read_text(encoding="utf-8", errors="replace") if junit else None
    client = cli.client()
    envelope = None
    if key_file is not None:
        from hoist.domain import attestations as a

        pipeline = cli.pipeline_identity()
        predicate, _, _ = a.test_result_of(
            kind=type_,
            actor=client.actor,
            environment=environment,
            url=pipeline.url if pipeline else None,
            passed=None if result is None else result == "pass",
            junit=report.encode() if report is not None else None,
        )
        digest = client.artifact(ref)["digest"]
        envelope = signed_statement(key_file.read_bytes(), _password(password_env), ref, digest, a.TEST_RESULT, predicate)
    out = client.attest(ref, type=type_, result=result, junit=report, environment=environment, envelope=envelope)

    def human() -> None:
        where = f" in {out['environment']}" if out["environment"] else ""
        counts = out["details"]
        extra = (
            f" ({counts['tests']} tests, {counts['failures']} failures, {counts['errors']} errors)"
            if counts.get("source") == "junit"
            else ""
        )
        cli.out.print(f"attested {ref}: {out['type']} = [bold]{out['result']}[/]{where}{extra}")

    cli.emit(out, human)


@click.command()
@click.argument("ref")
@click.option("--env", "environment", required=True, help="The environment the approval is for.")
@click.option("--comment", default=None, help="A note for the audit trail.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Sign the approval with your own key (its public half must be under the server's [keys]).",
)
@click.option("--password-env", default="COSIGN_PASSWORD", show_default=True, help="Variable holding the key's password.")
@common_options
def approve(cli: Cli, ref: str, environment: str, comment: str | None, key_file: Path | None, password_env: str) -> None:
    """Approve NAME@VERSION for an environment (four eyes: the pusher's approval does not count).
    With --key the approval is a statement you sign yourself: non-repudiable, verifiable offline."""
    ArtifactRef.parse(ref)
    client = cli.client()
    envelope = None
    if key_file is not None:
        digest = client.artifact(ref)["digest"]
        approver = client.actor
        envelope = signed_approval(
            key_file.read_bytes(), _password(password_env), approver, ref, digest, environment, comment
        )
    out = client.approve(ref, environment=environment, comment=comment, envelope=envelope)

    def human() -> None:
        verb = "approved" if out["created"] else "already approved"
        cli.out.print(f"{verb} {ref} for {environment} as {out['approval']['actor']}")
        if out["note"]:
            cli.err.print(f"[yellow]note:[/] {out['note']}")
        if out["released_hold"]:
            cli.out.print(f"  the hold on {ref} in {environment} is lifted")

    cli.emit(out, human)


def signed_approval(
    pem: bytes, password: bytes | None, approver: str, ref: str, digest: str, environment: str, comment: str | None
) -> bytes:
    """The approval statement about ``digest``, in a DSSE envelope signed with the approver's key."""
    from hoist.domain import attestations as a

    time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    predicate = a.approval(approver=approver, environment=environment, time=time, comment=comment, counts=None, reviewed=[])
    return signed_statement(pem, password, ref, digest, a.APPROVAL, predicate)


def signed_statement(
    pem: bytes, password: bytes | None, ref: str, digest: str, predicate_type: str, predicate: dict[str, Any]
) -> bytes:
    """An in-toto statement about ``digest`` in a DSSE envelope signed with this private key."""
    from hoist.domain import attestations as a
    from hoist.domain.digests import Digest
    from hoist.signing import keys

    key = keys.load_private(pem, password)
    body = a.statement(ArtifactRef.parse(ref).package, Digest.parse(digest), predicate_type, predicate)
    return a.envelope(body, keys.sign(key, a.pae(a.IN_TOTO, body)), key_id=keys.key_id(key.public_key()))


def _password(variable: str) -> bytes | None:
    value = os.environ.get(variable)
    return value.encode() if value else None


COMMANDS = [promote, attest, approve]
