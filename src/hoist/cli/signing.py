"""hoist key generate, hoist sign."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from hoist.cli.context import Cli, common_options
from hoist.domain.errors import Denied, InvalidInput
from hoist.domain.models import ArtifactRef

if TYPE_CHECKING:
    from hoist.client import HoistClient
    from hoist.client.oci import ManifestInfo


def _password(variable: str, *, required: bool) -> bytes | None:
    value = os.environ.get(variable)
    if value:
        return value.encode()
    if required:
        raise InvalidInput(f"set {variable} to the key's password (or choose another with --password-env)")
    return None


@click.group(name="key")
def key_group() -> None:
    """Signing keys (ECDSA P-256, as cosign uses)."""


@key_group.command()
@click.option(
    "-o",
    "--output",
    "prefix",
    default="hoist",
    show_default=True,
    help="Write PREFIX.key (private) and PREFIX.pub (public).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pkcs8", "cosign"]),
    default="pkcs8",
    show_default=True,
    help="cosign: cosign's encrypted key format, which cosign and skopeo --sign-by-sigstore-private-key read.",
)
@click.option(
    "--password-env",
    default="COSIGN_PASSWORD",
    show_default=True,
    help="Environment variable holding the password that encrypts the private key.",
)
@common_options
def generate(cli: Cli, prefix: str, fmt: str, password_env: str) -> None:
    """Generate a key pair; the private key never leaves this machine."""
    from hoist.signing import keys

    private_path, public_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    for path in (private_path, public_path):
        if path.exists():
            raise InvalidInput(f"{path} exists: choose another --output or move it away")
    password = _password(password_env, required=fmt == "cosign")
    key = keys.generate()
    pem = keys.cosign_private_pem(key, password) if fmt == "cosign" and password else keys.private_pem(key, password)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public_path.write_bytes(keys.public_pem(key))
    key_id = keys.key_id(key.public_key())
    result = {
        "private_key": str(private_path),
        "public_key": str(public_path),
        "key_id": key_id,
        "format": fmt,
        "encrypted": password is not None,
    }
    cli.emit(
        result,
        lambda: cli.out.print(
            f"wrote {private_path} ({fmt}{', encrypted' if password else ', NOT encrypted'}) and {public_path}\n"
            f'  key id {key_id}\n  give {public_path} to the server: [keys] <name> = "{public_path.resolve()}"'
        ),
    )


@click.command()
@click.argument("ref")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Private key (PKCS#8 PEM or cosign's encrypted format).",
)
@click.option(
    "--password-env",
    default="COSIGN_PASSWORD",
    show_default=True,
    help="Environment variable holding the key's password, if it is encrypted.",
)
@click.option("--registry", default=None, help="The registry whose copy to sign [default: where it was pushed].")
@common_options
def sign(cli: Cli, ref: str, key_file: Path, password_env: str, registry: str | None) -> None:
    """Sign NAME@VERSION the two ways cosign reads: a sha256-<hex>.sig tag and a Sigstore bundle referrer."""
    from hoist.client import oci
    from hoist.signing import cosign, keys

    ArtifactRef.parse(ref)
    key = keys.load_private(key_file.read_bytes(), _password(password_env, required=False))
    client = cli.client()
    artifact = client.artifact(ref, registry=registry)
    placed = [p["registry"] for p in artifact["placements"]]
    where = registry or (placed[0] if placed else None)
    if where is None:
        raise InvalidInput(f"{ref} is in no registry")
    repository = f"{where}/{artifact['package']}"
    info = _descriptor(client, artifact["package"], artifact["digest"], [where, *(r for r in placed if r != where)])
    if info is None:
        raise InvalidInput(f"{ref} is not pullable from {repository}")
    reference = f"{urlsplit(client.url).netloc}/{repository}"
    legacy = cosign.legacy_signature(
        key, reference, info.digest, oci.get_manifest(client, repository, _sig_tag(info.digest))
    )
    bundle = cosign.bundle_signature(
        key,
        {"mediaType": info.media_type, "digest": info.digest, "size": info.size},
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    written = []
    for artifact_part in (legacy, bundle):
        for blob in artifact_part.blobs:
            oci.put_blob(client, repository, blob.data)
        manifest_digest = str(cosign.Blob(cosign.OCI_MANIFEST, artifact_part.manifest).descriptor["digest"])
        target = artifact_part.tag or manifest_digest
        oci.put_manifest(client, repository, target, artifact_part.manifest, cosign.OCI_MANIFEST)
        written.append(target)
    checks = [a for a in client.artifact(ref)["attachments"] if a["kind"] == "signature"]
    mine = [a for a in checks if a["details"].get("key") and a["result"] == "pass"]
    result: dict[str, Any] = {
        "ref": ref,
        "digest": info.digest,
        "repository": repository,
        "key_id": keys.key_id(key.public_key()),
        "written": written,
        "verified_by_server": sorted({a["details"]["key"] for a in mine}),
    }

    def human() -> None:
        cli.out.print(f"signed [bold]{ref}[/] {info.digest} in {repository}")
        cli.out.print(f"  {written[0]} (cosign tag) and {written[1]} (Sigstore bundle referrer)")
        if result["verified_by_server"]:
            cli.out.print(f"  the server verified it with key(s): {', '.join(result['verified_by_server'])}")
        else:
            cli.err.print(
                "[yellow]note:[/] the server knows no key that verifies this signature "
                "(add the public key under \\[keys] to make it count)"
            )

    cli.emit(result, human)


def _descriptor(client: HoistClient, package: str, digest: str, registries: list[str]) -> ManifestInfo | None:
    """The signed manifest's descriptor, from the first of ``registries`` that serves it: one that
    serves only signed versions refuses an unsigned one, and any other placement has the same bytes."""
    from hoist.client import oci

    for i, registry in enumerate(registries):
        try:
            return oci.head_manifest(client, f"{registry}/{package}", digest)
        except Denied:
            if i == len(registries) - 1:
                raise
    return None


def _sig_tag(digest: str) -> str:
    algorithm, hexpart = digest.split(":", 1)
    return f"{algorithm}-{hexpart}.sig"


COMMANDS = [key_group, sign]
