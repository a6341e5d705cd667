"""The distribution-spec endpoints at /v2, one by one, with their error codes."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from hoist.client import HoistClient
from hoist.domain.digests import Digest
from hoist.domain.manifests import OCI_INDEX, OCI_MANIFEST
from hoist.metadata.sql.store import SqlMetadataStore
from tests.functional.helpers import row_counts
from tests.functional.oci_helpers import (
    descriptor,
    image_manifest,
    index,
    oci_error,
    push_blob,
    put_manifest,
)

REPO = "dev/shop/api"


def test_base_endpoint_answers_with_the_api_version(http: httpx.Client) -> None:
    r = http.get("/v2/")
    assert r.status_code == 200 and r.json() == {}
    assert r.headers["docker-distribution-api-version"] == "registry/2.0"


def test_push_and_pull_an_image_by_tag_and_digest(http: httpx.Client) -> None:
    raw = image_manifest(http, REPO, layers=2)
    pushed = put_manifest(http, REPO, "latest", raw)
    assert pushed.status_code == 201, pushed.text
    digest = str(Digest.of(raw))
    assert pushed.headers["docker-content-digest"] == digest
    assert pushed.headers["location"] == f"/v2/{REPO}/manifests/{digest}"
    for reference in ("latest", digest):
        got = http.get(f"/v2/{REPO}/manifests/{reference}")
        assert got.status_code == 200 and got.content == raw  # byte-exact as pushed
        assert got.headers["content-type"] == OCI_MANIFEST and got.headers["docker-content-digest"] == digest
        head = http.head(f"/v2/{REPO}/manifests/{reference}")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(raw)) and not head.content
    layer = json.loads(raw)["layers"][0]
    blob = http.get(f"/v2/{REPO}/blobs/{layer['digest']}")
    assert blob.status_code == 200 and Digest.of(blob.content) == Digest.parse(layer["digest"])
    part = http.get(f"/v2/{REPO}/blobs/{layer['digest']}", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == blob.content[:10]
    head = http.head(f"/v2/{REPO}/blobs/{layer['digest']}")
    assert head.headers["content-length"] == str(layer["size"]) and head.headers["docker-content-digest"] == layer["digest"]


def test_docker_v2_manifests_are_accepted_as_pushed(http: httpx.Client) -> None:
    docker = "application/vnd.docker.distribution.manifest.v2+json"
    cfg = push_blob(http, REPO, b'{"os":"linux"}')
    layer = push_blob(http, REPO, b"layer bytes")
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": docker,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **cfg},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", **layer}],
        },
        indent=3,
    ).encode()
    assert put_manifest(http, REPO, "docker", raw, docker).status_code == 201
    got = http.get(f"/v2/{REPO}/manifests/docker")
    assert got.content == raw and got.headers["content-type"] == docker


def test_unknown_things_have_their_codes(http: httpx.Client) -> None:
    absent = "sha256:" + "0" * 64
    assert oci_error(http.get(f"/v2/{REPO}/manifests/latest")) == "NAME_UNKNOWN"
    put_manifest(http, REPO, "latest", image_manifest(http, REPO))
    assert oci_error(http.get(f"/v2/{REPO}/manifests/nope")) == "MANIFEST_UNKNOWN"
    assert oci_error(http.get(f"/v2/{REPO}/manifests/{absent}")) == "MANIFEST_UNKNOWN"
    r = http.get(f"/v2/{REPO}/blobs/{absent}")
    assert r.status_code == 404 and oci_error(r) == "BLOB_UNKNOWN"
    assert http.head(f"/v2/{REPO}/blobs/{absent}").status_code == 404
    assert oci_error(http.get("/v2/staging/shop/api/tags/list")) == "NAME_UNKNOWN"
    assert oci_error(http.get("/v2/dev/Bad_Name/tags/list")) == "NAME_INVALID"
    assert oci_error(http.get(f"/v2/{REPO}/blobs/sha256:short")) == "DIGEST_INVALID"
    assert oci_error(http.get(f"/v2/{REPO}/blobs/uploads/{'f' * 32}")) == "BLOB_UPLOAD_UNKNOWN"
    assert oci_error(http.get("/v2/nope")) == "UNSUPPORTED"


def test_a_blob_of_another_repository_is_not_served_here(http: httpx.Client) -> None:
    blob = push_blob(http, "dev/other/app", b"private to other/app")
    assert http.get(f"/v2/dev/other/app/blobs/{blob['digest']}").status_code == 200
    assert oci_error(http.get(f"/v2/{REPO}/blobs/{blob['digest']}")) == "BLOB_UNKNOWN"


def test_manifests_are_validated(http: httpx.Client, metadata: SqlMetadataStore) -> None:
    raw = image_manifest(http, REPO)
    before = row_counts(metadata)
    assert oci_error(put_manifest(http, REPO, "x", b"{not json")) == "MANIFEST_INVALID"
    assert oci_error(put_manifest(http, REPO, "x", raw, OCI_INDEX)) == "MANIFEST_INVALID"
    wrong = "sha256:" + "1" * 64
    assert oci_error(put_manifest(http, REPO, wrong, raw)) == "DIGEST_INVALID"
    assert oci_error(put_manifest(http, REPO, "bad tag!", raw)) == "TAG_INVALID"
    ghost = json.loads(raw)
    ghost["layers"][0]["digest"] = "sha256:" + "2" * 64
    assert oci_error(put_manifest(http, REPO, "x", json.dumps(ghost).encode())) == "MANIFEST_BLOB_UNKNOWN"
    orphan_index = index([{"mediaType": OCI_MANIFEST, "digest": "sha256:" + "3" * 64, "size": 10}])
    assert oci_error(put_manifest(http, REPO, "x", orphan_index, OCI_INDEX)) == "MANIFEST_BLOB_UNKNOWN"
    big = http.put(f"/v2/{REPO}/manifests/x", content=b" " * (4 * 1024 * 1024 + 1), headers={"Content-Type": OCI_MANIFEST})
    assert big.status_code == 413
    after = row_counts(metadata)
    assert after["manifests"] == before["manifests"] and after["tags"] == before["tags"]


def test_chunked_upload_with_status_and_out_of_order_chunks(http: httpx.Client) -> None:
    start = http.post(f"/v2/{REPO}/blobs/uploads/")
    location = start.headers["location"]
    assert start.headers["range"] == "0-0" and start.headers["docker-upload-uuid"] in location
    r1 = http.patch(location, content=b"a" * 100, headers={"Content-Range": "0-99"})
    assert r1.status_code == 202 and r1.headers["range"] == "0-99"
    bad = http.patch(location, content=b"b" * 10, headers={"Content-Range": "200-209"})
    assert bad.status_code == 416 and bad.headers["range"] == "0-99"
    status = http.get(location)
    assert status.status_code == 204 and status.headers["range"] == "0-99"
    r2 = http.patch(location, content=b"b" * 50, headers={"Content-Range": "100-149"})
    assert r2.headers["range"] == "0-149"
    data = b"a" * 100 + b"b" * 50 + b"c" * 7
    done = http.put(location, params={"digest": str(Digest.of(data))}, content=b"c" * 7)
    assert done.status_code == 201 and done.headers["docker-content-digest"] == str(Digest.of(data))
    assert http.get(f"/v2/{REPO}/blobs/{Digest.of(data)}").content == data


def test_single_post_upload_and_cancel(http: httpx.Client) -> None:
    data = b"single request"
    r = http.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": str(Digest.of(data))}, content=data)
    assert r.status_code == 201 and r.headers["location"] == f"/v2/{REPO}/blobs/{Digest.of(data)}"
    location = http.post(f"/v2/{REPO}/blobs/uploads/").headers["location"]
    assert http.delete(location).status_code == 204
    assert oci_error(http.get(location)) == "BLOB_UPLOAD_UNKNOWN"


def test_wrong_digest_on_upload(http: httpx.Client) -> None:
    location = http.post(f"/v2/{REPO}/blobs/uploads/").headers["location"]
    r = http.put(location, params={"digest": str(Digest.of(b"other"))}, content=b"bytes")
    assert r.status_code == 400 and oci_error(r) == "DIGEST_INVALID"


def test_sha512_blobs(http: httpx.Client) -> None:
    data = b"sha512 content"
    digest = Digest.of(data, "sha512")
    r = http.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": str(digest)}, content=data)
    assert r.status_code == 201
    assert http.get(f"/v2/{REPO}/blobs/{digest}").content == data


def test_cross_repository_mount_needs_a_readable_source(http: httpx.Client, token_for: Callable[..., str]) -> None:
    blob = push_blob(http, "dev/base/image", b"shared base layer")
    r = http.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": blob["digest"], "from": "dev/base/image"})
    assert r.status_code == 201 and r.headers["docker-content-digest"] == blob["digest"]
    assert http.head(f"/v2/{REPO}/blobs/{blob['digest']}").status_code == 200
    # without a source the registry mounts a blob the client may read where it is (automatic discovery)
    auto = http.post("/v2/dev/third/app/blobs/uploads/", params={"mount": blob["digest"]})
    assert auto.status_code == 201 and auto.headers["location"] == f"/v2/dev/third/app/blobs/{blob['digest']}"
    # nor from a repository the client may not read (a developer mounting from prod)
    dev = {"Authorization": f"Bearer {token_for('dana', ['role:developer'])}"}
    hidden = push_blob(http, "prod/secret/base", b"bytes only prod readers may read")
    mount = {"mount": hidden["digest"], "from": "prod/secret/base"}
    assert http.post("/v2/dev/dana/app/blobs/uploads/", params=mount, headers=dev).status_code == 202
    auto = {"mount": hidden["digest"]}
    assert http.post("/v2/dev/dana/app/blobs/uploads/", params=auto, headers=dev).status_code == 202
    assert http.head(f"/v2/dev/dana/app/blobs/{hidden['digest']}", headers=dev).status_code == 404
    assert http.post("/v2/dev/alice/app/blobs/uploads/", params=mount).status_code == 201  # alice reads prod
    missing = http.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": "sha256:" + "9" * 64, "from": "dev/base/image"})
    assert missing.status_code == 202 and "/blobs/uploads/" in missing.headers["location"]


def test_tags_list_and_catalog_with_paging(http: httpx.Client) -> None:
    raw = image_manifest(http, REPO)
    for tag in ("b", "a", "c", "1.0.0", "1.1.0_7"):
        assert put_manifest(http, REPO, tag, raw).status_code == 201
    assert http.get(f"/v2/{REPO}/tags/list").json() == {"name": REPO, "tags": ["1.0.0", "1.1.0_7", "a", "b", "c"]}
    page = http.get(f"/v2/{REPO}/tags/list", params={"n": 2})
    assert page.json()["tags"] == ["1.0.0", "1.1.0_7"]
    assert page.headers["link"] == f'</v2/{REPO}/tags/list?n=2&last=1.1.0_7>; rel="next"'
    rest = http.get(f"/v2/{REPO}/tags/list", params={"n": 2, "last": "1.1.0_7"})
    assert rest.json()["tags"] == ["a", "b"] and "link" in rest.headers
    assert "link" not in http.get(f"/v2/{REPO}/tags/list", params={"n": 2, "last": "b"}).headers
    put_manifest(http, "dev/web", "latest", image_manifest(http, "dev/web"))
    assert http.get("/v2/_catalog").json() == {"repositories": ["dev/shop/api", "dev/web"]}
    first = http.get("/v2/_catalog", params={"n": 1})
    assert first.json() == {"repositories": ["dev/shop/api"]} and 'rel="next"' in first.headers["link"]


def test_version_tags_are_artifacts(http: httpx.Client, client: HoistClient) -> None:
    raw = image_manifest(http, REPO)
    assert put_manifest(http, REPO, "1.4.0_58", raw).status_code == 201
    artifact = client.artifact("shop/api@1.4.0+58")
    assert artifact["digest"] == str(Digest.of(raw)) and artifact["channel"] == "release"
    assert [ev["action"] for ev in client.history("shop/api@1.4.0+58")] == ["artifact:push"]
    other = image_manifest(http, REPO)
    refused = put_manifest(http, REPO, "1.4.0_58", other)
    assert refused.status_code == 403 and oci_error(refused) == "DENIED"
    assert str(Digest.of(raw)) in refused.json()["errors"][0]["message"]
    snapshot = put_manifest(http, REPO, "2.0.0-SNAPSHOT", raw)
    assert snapshot.status_code == 201
    assert put_manifest(http, REPO, "2.0.0-SNAPSHOT", other).status_code == 201  # dev: snapshots move


def test_push_by_digest_with_several_tags(http: httpx.Client) -> None:
    raw = image_manifest(http, REPO)
    digest = str(Digest.of(raw))
    r = put_manifest(http, REPO, digest, raw, tag=["one", "two"])
    assert r.status_code == 201 and r.headers.get_list("oci-tag") == ["one", "two"]
    assert http.get(f"/v2/{REPO}/manifests/two").headers["docker-content-digest"] == digest


def test_multi_platform_index(http: httpx.Client) -> None:
    children = []
    for arch in ("amd64", "arm64"):
        raw = image_manifest(http, REPO, config=json.dumps({"architecture": arch, "os": "linux"}).encode())
        assert put_manifest(http, REPO, str(Digest.of(raw)), raw).status_code == 201
        children.append({**descriptor(raw), "platform": {"architecture": arch, "os": "linux"}})
    idx = index(children)
    assert put_manifest(http, REPO, "3.0.0", idx, OCI_INDEX).status_code == 201
    got = http.get(f"/v2/{REPO}/manifests/3.0.0")
    assert got.content == idx and got.headers["content-type"] == OCI_INDEX


def test_deletes_follow_the_registry_policy(http: httpx.Client, client: HoistClient) -> None:
    raw = image_manifest(http, REPO)
    put_manifest(http, REPO, "latest", raw)
    put_manifest(http, REPO, "1.0.0", raw)
    digest = str(Digest.of(raw))
    assert oci_error(http.delete(f"/v2/{REPO}/manifests/1.0.0")) == "DENIED"  # versions go by digest
    assert http.delete(f"/v2/{REPO}/manifests/latest").status_code == 202
    assert oci_error(http.get(f"/v2/{REPO}/manifests/latest")) == "MANIFEST_UNKNOWN"
    client.deploy("shop/api@1.0.0", environment="dev")
    running = http.delete(f"/v2/{REPO}/manifests/{digest}")
    assert running.status_code == 403 and "runs in dev" in running.json()["errors"][0]["message"]
    layer = json.loads(raw)["layers"][0]["digest"]
    assert http.delete(f"/v2/{REPO}/blobs/{layer}").status_code == 202
    actions = [ev["action"] for ev in client.history("shop/api")]
    assert "tag:delete" in actions and "blob:unlink" in actions


def test_an_unused_manifest_can_be_deleted_by_digest(http: httpx.Client, client: HoistClient) -> None:
    raw = image_manifest(http, REPO)
    put_manifest(http, REPO, "1.0.0", raw)
    digest = str(Digest.of(raw))
    assert http.delete(f"/v2/{REPO}/manifests/{digest}").status_code == 202
    assert oci_error(http.get(f"/v2/{REPO}/manifests/1.0.0")) == "MANIFEST_UNKNOWN"
    assert http.get(f"/v2/{REPO}/tags/list").json()["tags"] == []
    assert client.artifact("shop/api@1.0.0")["placements"] == []


def test_basic_credentials_work_on_every_request(http: httpx.Client, client: HoistClient) -> None:
    import base64

    client.create_user("erin", password="erin's long passphrase", grants=["role:developer"])
    creds = {"Authorization": "Basic " + base64.b64encode(b"erin:erin's long passphrase").decode()}
    with httpx.Client(transport=http._transport, base_url="http://hoist.test", headers=creds) as erin:
        put_manifest(erin, REPO, "1.0.0", image_manifest(erin, REPO))
    put_manifest(http, REPO, "1.0.1", image_manifest(http, REPO))
    assert client.history("shop/api@1.0.0")[0]["actor"] == "erin"
    assert client.history("shop/api@1.0.1")[0]["actor"] == "alice"
    wrong = {"Authorization": "Basic " + base64.b64encode(b"erin:not it").decode()}
    refused = http.get(f"/v2/{REPO}/tags/list", headers=wrong)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer realm=")


def test_the_pull_hot_path_never_serves_a_stale_tag(http: httpx.Client) -> None:
    first, second = image_manifest(http, REPO), image_manifest(http, REPO)
    put_manifest(http, REPO, "latest", first)
    assert http.get(f"/v2/{REPO}/manifests/latest").content == first
    put_manifest(http, REPO, "latest", second)
    assert http.get(f"/v2/{REPO}/manifests/latest").content == second
    assert http.get(f"/v2/{REPO}/manifests/{Digest.of(first)}").content == first  # still there by digest
    http.delete(f"/v2/{REPO}/manifests/{Digest.of(second)}")
    assert oci_error(http.get(f"/v2/{REPO}/manifests/latest")) == "MANIFEST_UNKNOWN"
    assert http.head(f"/v2/{REPO}/manifests/{Digest.of(second)}").status_code == 404
    assert http.get(f"/v2/{REPO}/tags/list").json()["tags"] == []


def test_a_manifest_pushed_by_sha512_is_pulled_by_it(http: httpx.Client) -> None:
    raw = image_manifest(http, REPO)
    digest = Digest.of(raw, "sha512")
    r = put_manifest(http, REPO, str(digest), raw)
    assert r.status_code == 201 and r.headers["docker-content-digest"] == str(digest)
    got = http.get(f"/v2/{REPO}/manifests/{digest}")
    assert got.status_code == 200 and got.content == raw and got.headers["docker-content-digest"] == str(digest)


def test_a_helm_chart_is_an_oci_artifact_like_any_other(http: httpx.Client, client: HoistClient) -> None:
    chart = "dev/charts/shop"
    config = push_blob(http, chart, b'{"name":"shop","version":"0.3.1","apiVersion":"v2"}')
    content = push_blob(http, chart, b"\x1f\x8b chart tarball")
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", **content}],
        }
    ).encode()
    assert put_manifest(http, chart, "0.3.1", raw).status_code == 201
    client.attest("charts/shop@0.3.1", type="unit-tests", result="pass")
    assert client.promote("charts/shop@0.3.1", to="prod")["status"] == "promoted"
    pulled = http.get("/v2/prod/charts/shop/manifests/0.3.1")
    assert pulled.content == raw
    assert http.get(f"/v2/prod/charts/shop/blobs/{content['digest']}").content == b"\x1f\x8b chart tarball"


def test_a_docker_manifest_list_is_an_index(http: httpx.Client) -> None:
    docker_list = "application/vnd.docker.distribution.manifest.list.v2+json"
    child = image_manifest(http, REPO)
    put_manifest(http, REPO, str(Digest.of(child)), child)
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": docker_list,
            "manifests": [{**descriptor(child), "platform": {"architecture": "amd64", "os": "linux"}}],
        }
    ).encode()
    assert put_manifest(http, REPO, "multi", raw, docker_list).status_code == 201
    assert http.get(f"/v2/{REPO}/manifests/multi").headers["content-type"] == docker_list


def test_hoist_pull_points_to_an_oci_client_for_images(http: httpx.Client, client: HoistClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from hoist.cli.context import Cli
    from hoist.cli.exits import USAGE
    from hoist.cli.main import cli

    put_manifest(http, REPO, "1.0.0", image_manifest(http, REPO))
    result = CliRunner().invoke(cli, ["pull", "shop/api@1.0.0", "-o", str(tmp_path)], obj=Cli(_client=client))
    assert result.exit_code == USAGE and "skopeo copy" in result.output
