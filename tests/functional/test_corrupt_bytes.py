"""Stored bytes that rot on disk before fsck runs: small blobs are re-hashed before every 200 and never
served as good; a large blob is marked corrupt by the first server-side whole read that notices; and
`hoist verify` / `hoist provenance` re-hash every blob of the artifact on the client."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import socket
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoist.app import Services, build_app, build_services, migrate, start_blob_server
from hoist.cli.context import Cli
from hoist.cli.exits import INTEGRITY
from hoist.cli.main import cli
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt
from hoist.domain.jobs import WorkReport
from hoist.domain.manifests import OCI_INDEX
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.services.serving import CHECKED_UP_TO
from hoist.storage.filesystem import FilesystemBlobStore
from hoist.storage.memory import MemoryBlobStore
from tests.asgi import SyncASGITransport
from tests.conftest import put_bytes
from tests.functional.helpers import push
from tests.functional.oci_helpers import LAYER, descriptor, image_manifest, index, oci_error, push_blob, put_manifest

LARGE = CHECKED_UP_TO + 1024 * 1024  # past the check on the way out: served zero-copy


@pytest.fixture
def dana(transport: SyncASGITransport, token_for: Callable[..., str]) -> Iterator[httpx.Client]:
    """A developer: pushes to and reads from dev, the least a push and a pull there need."""
    headers = {"Authorization": f"Bearer {token_for('dana', ['role:developer'])}"}
    with httpx.Client(transport=transport, base_url="http://hoist.test", headers=headers) as http:
        yield http


@pytest.fixture
def client(dana: httpx.Client) -> HoistClient:
    return HoistClient("http://hoist.test", http=dana)


def rot(blobs: FilesystemBlobStore, digest: str, data: bytes | None = None) -> None:
    """The fault: the file holding the blob changes on disk (same size unless ``data`` says otherwise)."""
    path = blobs.path(Digest.parse(digest))
    assert path is not None
    old = path.read_bytes()
    path.write_bytes(data if data is not None else bytes([old[0] ^ 1]) + old[1:])


def hoist(client: HoistClient, *args: str) -> tuple[int, str]:
    out = CliRunner().invoke(cli, list(args), obj=Cli(_client=client, progress=False), catch_exceptions=False)
    return out.exit_code, out.output


def test_a_small_blob_whose_bytes_rotted_is_never_served_as_good(
    dana: httpx.Client, blobs: FilesystemBlobStore, services: Services
) -> None:
    data = os.urandom(64 * 1024)
    blob = push_blob(dana, "dev/shop/api", data)
    rot(blobs, blob["digest"])
    url = f"/v2/dev/shop/api/blobs/{blob['digest']}"
    # a HEAD is how clients ask "do you hold it?" before they upload: unknown, so docker, skopeo and
    # podman push the good bytes again, which repairs it (a 200 would skip the repair, a 500 fail the push)
    assert dana.head(url).status_code == 404
    answer = dana.get(url)
    assert answer.status_code == 500 and oci_error(answer) == "BLOB_CORRUPT"
    api = dana.get(f"/api/v1/blobs/{blob['digest']}")
    assert api.status_code == 500 and api.json()["error"]["code"] == "BLOB_CORRUPT"
    assert blob["digest"] in api.json()["error"]["message"]
    with pytest.raises(BlobCorrupt):  # marked, as fsck would have: the next reader is told too
        services.blobs.stat(Digest.parse(blob["digest"]))
    push_blob(dana, "dev/shop/api", data)  # the good bytes again repair it
    assert dana.get(f"/v2/dev/shop/api/blobs/{blob['digest']}").content == data


def test_the_blob_server_checks_small_blobs_before_it_answers(
    settings: Settings, dana: httpx.Client, blobs: FilesystemBlobStore, services: Services
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = start_blob_server(dataclasses.replace(settings, blob_port=port))
    assert server is not None
    try:
        from hoist.app import token_secret
        from hoist.http.blobserver import BlobUrls

        blob = push_blob(dana, "dev/shop/api", b"small layer" * 100)
        url = BlobUrls(token_secret(settings), f"http://:{port}").sign(Digest.parse(blob["digest"]), expires_in=60)
        assert httpx.get(f"http://127.0.0.1:{port}{url}").content == b"small layer" * 100
        rot(blobs, blob["digest"])  # after the registry authorised and redirected: the blob server must notice
        answer = httpx.get(f"http://127.0.0.1:{port}{url}")
        assert answer.status_code == 500 and "corrupt" in answer.text
        with pytest.raises(BlobCorrupt):
            services.blobs.stat(Digest.parse(blob["digest"]))
    finally:
        server.stop()


def test_a_large_blob_is_marked_corrupt_by_the_first_whole_read_that_notices(
    client: HoistClient, dana: httpx.Client, blobs: FilesystemBlobStore, tmp_path: Path
) -> None:
    push(client, tmp_path, version="1.0.0", content=os.urandom(LARGE))
    push(client, tmp_path, version="1.1.0", content=b"the next build")
    client.deploy("shop-api@1.0.0", environment="dev")
    client.deploy("shop-api@1.1.0", environment="dev")
    big = client.artifact("shop-api@1.0.0")["files"][0]["digest"]
    rot(blobs, big)
    assert dana.get(f"/api/v1/blobs/{big}").status_code == 200  # zero-copy: only a whole read can tell
    report = client.drill("dev")  # re-hashes every rollback target on the server
    assert not report["ready"] and report["integrity_failed"]
    served = dana.get(f"/api/v1/blobs/{big}")
    assert served.status_code == 500 and served.json()["error"]["code"] == "BLOB_CORRUPT"


def test_verify_and_provenance_rehash_every_file_and_name_the_first_bad_digest(
    client: HoistClient, blobs: FilesystemBlobStore, tmp_path: Path
) -> None:
    push(client, tmp_path, version="1.0.0", content=os.urandom(LARGE), name="big.bin")
    code, text = hoist(client, "verify", "shop-api@1.0.0", "--env", "dev")
    assert code == 0, text
    big = client.artifact("shop-api@1.0.0")["files"][0]["digest"]
    rot(blobs, big)  # large: the server streams it zero-copy, so only the client's re-hash can tell
    code, text = hoist(client, "verify", "shop-api@1.0.0", "--env", "dev")
    assert code == INTEGRITY and big in text and "NOT verified" in text
    code, text = hoist(client, "provenance", "shop-api@1.0.0")
    assert code == INTEGRITY and big in text
    code, text = hoist(client, "--json", "verify", "shop-api@1.0.0", "--env", "dev")
    assert code == INTEGRITY and any(big in line for line in json.loads(text[: text.rindex("}") + 1])["failed"])


def test_verify_rehashes_an_image_index_its_children_their_configs_and_layers(
    client: HoistClient, dana: httpx.Client, blobs: FilesystemBlobStore
) -> None:
    amd64 = image_manifest(dana, "dev/shop/api", layers=2)
    arm64 = image_manifest(dana, "dev/shop/api", layers=1)
    for raw in (amd64, arm64):
        assert put_manifest(dana, "dev/shop/api", str(Digest.of(raw)), raw).status_code == 201
    top = index([descriptor(amd64), descriptor(arm64)])
    assert put_manifest(dana, "dev/shop/api", "2.0.0", top, OCI_INDEX).status_code == 201
    code, text = hoist(client, "verify", "shop/api@2.0.0", "--env", "dev")
    assert code == 0, text
    assert "bytes" in hoist(client, "provenance", "shop/api@2.0.0")[1]
    layer = json.loads(arm64)["layers"][0]["digest"]
    rot(blobs, layer)
    code, text = hoist(client, "verify", "shop/api@2.0.0", "--env", "dev")
    assert code == INTEGRITY and layer in text


def test_sbom_generation_marks_a_layer_it_finds_rotten(
    dana: httpx.Client, blobs: FilesystemBlobStore, services: Services, drain: Callable[[], WorkReport]
) -> None:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        info = tarfile.TarInfo("etc/os-release")
        content = b'ID=debian\nVERSION_ID="12"\n'
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    layer = push_blob(dana, "dev/shop/api", packed.getvalue())
    image = json.loads(image_manifest(dana, "dev/shop/api", layers=0))
    image["layers"] = [{"mediaType": LAYER, **layer}]
    raw = json.dumps(image).encode()
    rot(blobs, layer["digest"])  # after the upload verified it, before the version's SBOM is made
    assert put_manifest(dana, "dev/shop/api", "3.0.0", raw).status_code == 201  # the push stands, without an SBOM
    drain()  # the SBOM job reads the layer
    with pytest.raises(BlobCorrupt):
        services.blobs.stat(Digest.parse(layer["digest"]))


def test_verify_skips_a_foreign_layer_the_registry_does_not_hold_and_fails_on_any_other_missing_blob(
    client: HoistClient, dana: httpx.Client, blobs: FilesystemBlobStore
) -> None:
    image = json.loads(image_manifest(dana, "dev/shop/api", layers=2))
    foreign, own = image["layers"]
    foreign.update(mediaType="application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", urls=["https://example.com/l"])
    raw = json.dumps(image).encode()
    assert put_manifest(dana, "dev/shop/api", "4.0.0", raw).status_code == 201
    for digest in (foreign["digest"], own["digest"]):
        path = blobs.path(Digest.parse(digest))
        assert path is not None
        path.unlink()  # the registry does not hold these bytes (a foreign layer never was pushed to it)
        code, text = hoist(client, "verify", "shop/api@4.0.0", "--env", "dev")
        if digest == foreign["digest"]:
            assert code == 0, text  # fetched from its URLs by whoever runs it: not the registry's to prove
        else:
            assert code == INTEGRITY and f"{own['digest']}: dev/shop/api does not serve it" in text


def test_a_large_blob_streamed_through_python_breaks_off_and_is_marked_when_its_end_comes_out_wrong(
    settings: Settings, metadata: SqlMetadataStore, token_for: Callable[..., str]
) -> None:
    store = MemoryBlobStore()  # no local file: every download streams through the store's reader
    transport = SyncASGITransport(build_app(settings, build_services(settings, metadata, store)))
    headers = {"Authorization": f"Bearer {token_for('dana', ['role:developer'])}"}
    try:
        with httpx.Client(transport=transport, base_url="http://hoist.test", headers=headers) as http:
            data = os.urandom(LARGE)
            digest = Digest.parse(push_blob(http, "dev/shop/api", data)["digest"])
            store.blobs[digest] = data[:-1] + bytes([data[-1] ^ 1])  # the fault, in the memory store's medium
            # (a flipped bit: a fixed byte put there would be no fault once in 256 runs)
            with pytest.raises(RuntimeError, match="response already started") as broke:
                http.get(f"/v2/dev/shop/api/blobs/{digest}")  # the 200 was under way: it is aborted before its end
            assert isinstance(broke.value.__cause__, BlobCorrupt)
            answer = http.get(f"/v2/dev/shop/api/blobs/{digest}")
            assert answer.status_code == 500 and oci_error(answer) == "BLOB_CORRUPT"
    finally:
        transport.close()


def test_corrupt_marks_a_data_folder_kept_as_files_before_the_upgrade_stay_marked(
    settings: Settings, services: Services, blobs: FilesystemBlobStore
) -> None:
    """Before migration 0009 the filesystem store marked a corrupt blob with a file beside it: the
    upgrade (``hoist db upgrade``, ``hoist serve``) records those marks and removes the files."""
    digest = put_bytes(blobs, b"found rotten before the upgrade").digest
    marker = settings.storage_dir / "corrupt" / digest.algorithm / digest.hex
    marker.parent.mkdir(parents=True)
    marker.touch()
    migrate(settings)
    with pytest.raises(BlobCorrupt):
        services.blobs.stat(digest)
    assert not marker.exists()
    migrate(settings)  # again: nothing left to record
    with pytest.raises(BlobCorrupt):
        services.blobs.stat(digest)
