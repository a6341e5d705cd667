"""A registry that trusts named builders takes promotions only with SLSA provenance from one of them:
a key under [keys] that signed the provenance, or a CI robot whose push the server notarised."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoist.cli.context import Cli
from hoist.cli.exits import REFUSED
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.client import oci as o
from hoist.domain import attestations as a
from hoist.domain import errors as e
from hoist.domain.digests import Digest
from hoist.domain.models import Pipeline
from hoist.signing import cosign
from hoist.signing import keys as k
from tests.asgi import SyncASGITransport
from tests.conftest import _Unclosable
from tests.functional.helpers import push

RUN = Pipeline("github-actions", "4242", project="acme/shop-api", commit="4f2a9c1e", ref="refs/heads/main")


@pytest.fixture
def signing_keys(tmp_path: Path) -> dict[str, k.ec.EllipticCurvePrivateKey]:
    made = {name: k.generate() for name in ("ci-release", "laptop")}
    for name, key in made.items():
        (tmp_path / f"{name}.pub").write_bytes(k.public_pem(key))
    return made


@pytest.fixture
def config_text(tmp_path: Path, signing_keys: dict[str, object]) -> str:
    return f"""
[keys]
ci-release = "{tmp_path / "ci-release.pub"}"
laptop = "{tmp_path / "laptop.pub"}"

[registries.dev]
[registries.prod]
direct_push = false
promote_from = ["dev"]
trusted_builders = ["key:ci-release", "robot:ci"]

[environments.dev]
registry = "dev"
[environments.prod]
registry = "prod"

[ceilings]
snapshot = "dev"
rc = "dev"
release = "prod"
"""


@pytest.fixture
def as_principal(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[Callable[..., HoistClient]]:
    """A client for a principal holding only ``role`` (a robot when ``robot``), pushing from ``pipeline``."""
    opened: list[httpx.Client] = []

    def make(name: str, role: str, *, robot: bool, pipeline: Pipeline | None = None) -> HoistClient:
        http = httpx.Client(transport=_Unclosable(transport), base_url="http://hoist.test")
        opened.append(http)
        token = token_for(name, [f"role:{role}"], robot=robot)
        return HoistClient("http://hoist.test", token=token, http=http, pipeline=pipeline)

    yield make
    for http in opened:
        http.close()


def attach_provenance(client: HoistClient, key: k.ec.EllipticCurvePrivateKey, ref: str, builder: str) -> None:
    """What `cosign attest --type slsaprovenance1` writes with the new bundle format: a Sigstore bundle
    over a SLSA provenance v1 statement, as a referrer of the artifact."""
    artifact = client.artifact(ref)
    repository = f"dev/{artifact['package']}"
    info = o.head_manifest(client, repository, artifact["digest"])
    assert info is not None
    started = "2026-01-01T00:00:00Z"
    predicate = a.provenance(provider="github-actions", pipeline=RUN.as_dict(), builder=builder, started=started)
    bundle = cosign.bundle_signature(
        key,
        {"mediaType": info.media_type, "digest": info.digest, "size": info.size},
        created="2026-01-01T00:00:00Z",
        predicate_type=a.PROVENANCE,
        predicate=predicate,
    )
    for blob in bundle.blobs:
        o.put_blob(client, repository, blob.data)
    digest = str(cosign.Blob(cosign.OCI_MANIFEST, bundle.manifest).descriptor["digest"])
    o.put_manifest(client, repository, digest, bundle.manifest, cosign.OCI_MANIFEST)


def test_a_push_by_the_trusted_ci_robot_may_be_promoted(as_principal: Callable[..., HoistClient], tmp_path: Path) -> None:
    ci = as_principal("ci", "ci", robot=True, pipeline=RUN)
    release = as_principal("release", "release", robot=True)
    push(ci, tmp_path, version="1.0.0")
    registries = {r["name"]: r for r in release.request("GET", "/registries").json()}
    assert registries["prod"]["trusted_builders"] == ["key:ci-release", "robot:ci"]
    assert release.promote("shop-api@1.0.0", to="prod", dry_run=True)["status"] == "planned"
    promoted = release.promote("shop-api@1.0.0", to="prod")
    assert promoted["status"] == "promoted" and "provenance" in promoted["gates"]


def test_provenance_from_anyone_else_does_not_count_and_the_refusal_says_why(
    as_principal: Callable[..., HoistClient], tmp_path: Path, signing_keys: dict[str, k.ec.EllipticCurvePrivateKey]
) -> None:
    dana = as_principal("dana", "developer", robot=False, pipeline=RUN)  # a person pushing "from CI"
    release = as_principal("release", "release", robot=True)
    push(dana, tmp_path, version="1.0.0")
    attach_provenance(dana, signing_keys["laptop"], "shop-api@1.0.0", "https://laptop.example/build")
    dry = CliRunner().invoke(
        cli, ["promote", "shop-api@1.0.0", "--to", "prod", "--dry-run"], obj=Cli(_client=release, progress=False)
    )
    assert dry.exit_code == REFUSED
    assert (
        "✗ provenance: no SLSA provenance from a trusted builder for shop-api@1.0.0 (found: builder "
        "https://github.com/actions/runner signed by the server for a push by user dana from acme/shop-api, not trusted; "
        "builder https://laptop.example/build signed by key laptop, not trusted); prod trusts key:ci-release, robot:ci"
    ) in " ".join(dry.output.split())
    with pytest.raises(e.PromotionRefused) as info:
        release.promote("shop-api@1.0.0", to="prod")
    assert [p.gate for p in info.value.problems] == ["provenance"]
    placements = release.artifact("shop-api@1.0.0")["placements"]
    assert [p["registry"] for p in placements] == ["dev"]  # the refusal changed nothing
    refused = [ev for ev in release.history("shop-api@1.0.0") if ev["action"] == "artifact:promote-refused"]
    assert len(refused) == 1 and refused[0]["actor"] == "release"


def test_provenance_signed_by_a_trusted_key_counts_whoever_pushed(
    as_principal: Callable[..., HoistClient], tmp_path: Path, signing_keys: dict[str, k.ec.EllipticCurvePrivateKey]
) -> None:
    dana = as_principal("dana", "developer", robot=False)
    release = as_principal("release", "release", robot=True)
    push(dana, tmp_path, version="1.0.0")
    with pytest.raises(e.PromotionRefused, match=r"\(found: none\)"):
        release.promote("shop-api@1.0.0", to="prod")
    attach_provenance(dana, signing_keys["ci-release"], "shop-api@1.0.0", "https://ci.acme.example/release")
    (recorded,) = [x for x in release.artifact("shop-api@1.0.0")["attachments"] if x["kind"] == "signature"]
    assert recorded["details"]["builder"] == "https://ci.acme.example/release"
    assert recorded["details"]["key"] == "ci-release" and recorded["details"]["predicate_type"] == a.PROVENANCE
    assert release.promote("shop-api@1.0.0", to="prod")["status"] == "promoted"


def test_provenance_cosign_attest_wrote_under_the_att_tag_counts(
    as_principal: Callable[..., HoistClient], tmp_path: Path, signing_keys: dict[str, k.ec.EllipticCurvePrivateKey]
) -> None:
    """cosign v2's `cosign attest --key`: a DSSE envelope layer in the manifest at ``sha256-<hex>.att``."""
    dana = as_principal("dana", "developer", robot=False)
    release = as_principal("release", "release", robot=True)
    digest = Digest.parse(push(dana, tmp_path, version="1.0.0")["artifact"]["digest"])
    predicate = a.provenance(provider="gitlab-ci", pipeline={"id": "7"}, builder="https://gitlab.acme/runner", started="t")
    statement = a.statement("shop-api", digest, a.PROVENANCE, predicate)
    envelope = a.envelope(statement, k.sign(signing_keys["ci-release"], a.pae(a.IN_TOTO, statement)))
    config = b'{"architecture":"","os":"","config":{}}'
    layers = []
    for media_type, data in ((a.DSSE_LAYER, envelope), ("application/vnd.oci.image.config.v1+json", config)):
        layers.append({"mediaType": media_type, "digest": o.put_blob(dana, "dev/shop-api", data), "size": len(data)})
    manifest = {
        "schemaVersion": 2,
        "mediaType": cosign.OCI_MANIFEST,
        "config": layers.pop(),
        "layers": [{**layers[0], "annotations": {"predicateType": a.PROVENANCE}}],
    }
    raw = json.dumps(manifest).encode()
    o.put_manifest(dana, "dev/shop-api", f"sha256-{digest.hex}.att", raw, cosign.OCI_MANIFEST)
    (recorded,) = [x for x in release.artifact("shop-api@1.0.0")["attachments"] if x["kind"] == "signature"]
    assert (recorded["type"], recorded["result"]) == ("cosign-attestation", "pass")
    assert recorded["details"]["builder"] == "https://gitlab.acme/runner" and recorded["details"]["key"] == "ci-release"
    assert release.promote("shop-api@1.0.0", to="prod")["status"] == "promoted"
