"""npm, PyPI and Maven versions are signed with `hoist sign` like any artifact: cosign's shapes over /v2
into the version's repository, which otherwise refuses anything but its own view's publishing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hoist.app import Services
from hoist.client import HoistClient
from hoist.domain import errors as e
from hoist.formats.common.ingest import store_bytes
from tests.functional.oci_helpers import image_manifest, put_manifest
from tests.functional.test_signatures import hoist, release_key

__all__ = ["release_key"]  # test_signatures' fixture, used here

# (package key, version, file): one per native room, scoped npm included
NATIVE = [
    ("npm/@acme/ui", "1.0.0", "ui-1.0.0.tgz"),
    ("npm/left-pad", "1.0.0", "left-pad-1.0.0.tgz"),
    ("pypi/shop-utils", "1.0.0", "shop_utils-1.0.0-py3-none-any.whl"),
    ("maven/org.acme:shop-core", "1.0.0", "shop-core-1.0.0.jar"),
]


# dev takes publishes (and deletes); prod takes promotions and serves only what the key "release" signed
CONFIG = """
[keys]
release = "{public}"

[registries.dev]
allow_delete = true

[registries.prod]
direct_push = false
promote_from = ["dev"]
trusted_keys = ["release"]
require_signature_to_pull = true

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
def config_text(tmp_path: Path, release_key: Path) -> str:
    return CONFIG.format(public=tmp_path / "release.pub")


@pytest.fixture
def releaser(client_as: Callable[..., HoistClient]) -> HoistClient:
    """The least-privileged principal that signs a release: promote (and read) rights, no push."""
    return client_as("rel", ["role:release"])


def publish(services: Services, token_for: Callable[..., str], package: str, version: str, file: str) -> None:
    ci = services.authentication.authenticate_token(token_for("ci-bot", ["role:ci"], robot=True), None)
    entry = store_bytes(f"{package} {version}".encode(), services.uploads).entry(file)
    services.packages.add_files(registry="dev", package=package, version=version, files=[entry], actor=ci)


@pytest.mark.parametrize(("package", "version", "file"), NATIVE)
def test_a_releaser_signs_a_native_version_in_dev_and_in_prod(
    services: Services,
    token_for: Callable[..., str],
    releaser: HoistClient,
    release_key: Path,
    package: str,
    version: str,
    file: str,
) -> None:
    ref = f"{package}@{version}"
    publish(services, token_for, package, version, file)
    signed = hoist(releaser, "sign", ref, "--key", str(release_key), "--json")
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.output)["verified_by_server"] == ["release"]
    assert releaser.promote(ref, to="prod")["status"] == "promoted"
    # a sealed version is signed in prod too, as an OCI one is
    again = hoist(releaser, "sign", ref, "--key", str(release_key), "--registry", "prod", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["repository"] == f"prod/{package}"
    verified = hoist(releaser, "verify", ref, "--env", "prod", "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["verified"] is True
    rel = services.authentication.authenticate_token(token_for("rel"), None)
    assert services.packages.open_file("prod", package, version, file, rel) is not None


@pytest.mark.parametrize(("package", "version", "file"), NATIVE)
def test_prod_serves_a_native_file_only_once_it_is_signed(
    services: Services,
    token_for: Callable[..., str],
    releaser: HoistClient,
    release_key: Path,
    package: str,
    version: str,
    file: str,
) -> None:
    ref = f"{package}@{version}"
    publish(services, token_for, package, version, file)
    releaser.promote(ref, to="prod")
    rel = services.authentication.authenticate_token(token_for("rel"), None)
    with pytest.raises(e.Denied, match="serves only signed artifacts"):
        services.packages.open_file("prod", package, version, file, rel)
    # prod does not serve the unsigned manifest: hoist sign reads its descriptor where it is served (dev)
    signed = hoist(releaser, "sign", ref, "--key", str(release_key), "--registry", "prod", "--json")
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.output)["repository"] == f"prod/{package}"
    assert services.packages.open_file("prod", package, version, file, rel) is not None


@pytest.mark.parametrize("package", [p for p, _, _ in NATIVE])
def test_v2_into_a_native_repository_takes_signatures_and_refuses_the_rest(
    http: httpx.Client, services: Services, token_for: Callable[..., str], package: str
) -> None:
    """The admin is refused too: an image or a version tag under a native key is that view's to publish."""
    publish(services, token_for, package, "1.0.0", "f.bin")
    repo = f"dev/{package}"
    manifest = image_manifest(http, repo)  # blob uploads are accepted
    for reference in ("2.0.0", "latest"):
        refused = put_manifest(http, repo, reference, manifest)
        assert refused.status_code == 400, refused.text
        assert "is reserved for the" in refused.json()["errors"][0]["message"]
    digest = releaser_digest(http, repo)
    refused = http.delete(f"/v2/{repo}/manifests/{digest}")
    assert refused.status_code == 400 and "is reserved for the" in refused.json()["errors"][0]["message"]
    assert http.head(f"/v2/{repo}/manifests/{digest}").status_code == 200
    assert http.get(f"/v2/{repo}/referrers/{digest}").status_code == 200
    layer = json.loads(manifest)["layers"][0]["digest"]
    for method in ("HEAD", "GET"):
        assert http.request(method, f"/v2/{repo}/blobs/{layer}").status_code in {200, 307}
    assert http.get(f"/v2/{repo}/tags/list").json()["name"] == repo


def releaser_digest(http: httpx.Client, repo: str) -> str:
    found = http.head(f"/v2/{repo}/manifests/1.0.0")
    assert found.status_code == 200, found.text
    return found.headers["docker-content-digest"]


def test_maven_heads_and_gets_an_unsigned_jar_alike_where_signatures_are_required(
    http: httpx.Client, services: Services, token_for: Callable[..., str], releaser: HoistClient, release_key: Path
) -> None:
    """Maven HEADs before it GETs: the HEAD answers what the GET would, in Maven's (plain text) shape."""
    package, version, file = NATIVE[3]
    publish(services, token_for, package, version, file)
    releaser.promote(f"{package}@{version}", to="prod")
    url = f"/maven/prod/org/acme/shop-core/{version}/{file}"
    assert http.head(url).status_code == 403
    refused = http.get(url)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/plain")
    assert "serves only signed artifacts" in refused.text
    assert hoist(releaser, "sign", f"{package}@{version}", "--key", str(release_key)).exit_code == 0
    assert http.head(url).status_code == 200
    assert http.get(url).content == f"{package} {version}".encode()
