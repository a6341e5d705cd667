from __future__ import annotations

import json

import pytest

from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidManifest, InvalidName
from hoist.domain.manifests import (
    EMPTY_DIGEST,
    GENERIC_ARTIFACT_TYPE,
    OCI_INDEX,
    OCI_MANIFEST,
    TITLE,
    Descriptor,
    generic_manifest,
    parse_manifest,
    referrer_manifest,
    size_mismatches,
)
from hoist.domain.models import FileEntry
from hoist.domain.versions import Version

A = FileEntry("a.tgz", Digest.of(b"a"), 1)
B = FileEntry("b.txt", Digest.of(b"bb"), 2, "text/plain")


def test_generic_manifest_is_deterministic_and_order_independent() -> None:
    v = Version.parse("1.4.0+1")
    first = generic_manifest("shop-api", v, [A, B])
    assert first == generic_manifest("shop-api", v, [B, A])
    assert first != generic_manifest("shop-api", Version.parse("1.4.0+2"), [A, B])
    doc = json.loads(first)
    assert doc["artifactType"] == GENERIC_ARTIFACT_TYPE
    assert doc["config"]["digest"] == str(EMPTY_DIGEST)
    assert [layer["annotations"][TITLE] for layer in doc["layers"]] == ["a.tgz", "b.txt"]


def test_generic_manifest_parses_back_into_its_files() -> None:
    m = parse_manifest(generic_manifest("shop-api", Version.parse("1.0.0"), [B, A]))
    assert m.media_type == OCI_MANIFEST
    assert m.files() == (A, B)
    assert set(m.blob_digests()) == {EMPTY_DIGEST, A.digest, B.digest}
    assert m.digest == Digest.of(m.raw)


@pytest.mark.parametrize(
    ("files", "error"),
    [([], InvalidManifest), ([A, A], InvalidManifest), ([FileEntry("../x", A.digest, 1)], InvalidName)],
)
def test_generic_manifest_refuses_bad_file_lists(files: list[FileEntry], error: type[Exception]) -> None:
    with pytest.raises(error):
        generic_manifest("p", Version.parse("1.0.0"), files)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"schemaVersion": 1}',
        b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:nope", "size": 1}, "layers": []}',
        b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "' + str(EMPTY_DIGEST).encode() + b'", "size": -1}}',
        b'{"schemaVersion": 2, "config": {"digest": "' + str(EMPTY_DIGEST).encode() + b'", "size": 2}}',
        b'{"schemaVersion": 2, "mediaType": 5}',
        b'{"schemaVersion": 2, "manifests": {}}',
        b'{"schemaVersion": 2, "annotations": {"a": 1}, "manifests": []}',
    ],
)
def test_malformed_manifests_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidManifest):
        parse_manifest(raw)


def test_index_and_subject_are_read() -> None:
    child = {"mediaType": OCI_MANIFEST, "digest": str(A.digest), "size": 10, "platform": {"os": "linux"}}
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [child],
            "subject": {"mediaType": OCI_MANIFEST, "digest": str(B.digest), "size": 3},
        }
    ).encode()
    m = parse_manifest(raw, OCI_INDEX)
    assert m.is_index and m.manifests[0].digest == A.digest and m.subject and m.subject.digest == B.digest


def test_content_type_must_agree_with_the_declared_media_type() -> None:
    raw = generic_manifest("p", Version.parse("1.0.0"), [A])
    with pytest.raises(InvalidManifest, match="does not match"):
        parse_manifest(raw, OCI_INDEX)


DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"


def test_foreign_layers_are_left_out_of_the_blobs_the_registry_must_hold() -> None:
    config = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": str(Digest.of(b"c")), "size": 1}
    layers = [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": str(Digest.of(b"a")), "size": 1},
        {"mediaType": DOCKER_FOREIGN, "digest": str(Digest.of(b"b")), "size": 1},
        {"mediaType": "application/x-anything", "digest": str(Digest.of(b"d")), "size": 1, "urls": ["https://x.example/d"]},
    ]
    manifest = parse_manifest(json.dumps({"schemaVersion": 2, "config": config, "layers": layers}).encode())
    assert [d.foreign for d in manifest.layers] == [False, True, True]
    assert manifest.blob_digests() == (Digest.of(b"c"), Digest.of(b"a"))
    assert [where for where, _ in manifest.blob_descriptors()] == ["config", "layers[0]", "layers[1]", "layers[2]"]


def test_size_mismatches_name_each_descriptor_whose_stored_size_differs() -> None:
    child = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": str(Digest.of(b"m")), "size": 9}
    index = parse_manifest(json.dumps({"schemaVersion": 2, "manifests": [child, {**child, "size": 1}]}).encode())
    found = size_mismatches(index, lambda _: None, lambda d: 1 if d == Digest.of(b"m") else None)
    assert [m.as_dict() for m in found] == [
        {"descriptor": "manifests[0]", "digest": str(Digest.of(b"m")), "declared": 9, "stored": 1}
    ]
    assert size_mismatches(index, lambda _: None, lambda _: None) == []  # not stored: presence checks report it


def test_a_referrer_names_its_subject_and_carries_one_layer_on_the_empty_config() -> None:
    subject = Descriptor(OCI_MANIFEST, Digest.of(b"the artifact"), 321)
    layer = Descriptor("application/vnd.dsse.envelope.v1+json", Digest.of(b"envelope"), 8, {"predicateType": "p"})
    raw = referrer_manifest(subject, "application/vnd.in-toto+json", layer, {"org.opencontainers.image.created": "now"})
    read = parse_manifest(raw)
    assert read.subject == subject and read.layers == (layer,) and read.config is not None
    assert (read.artifact_type, read.config.digest) == ("application/vnd.in-toto+json", EMPTY_DIGEST)
    assert read.annotations == {"org.opencontainers.image.created": "now"}
    bare = referrer_manifest(subject, "application/spdx+json", Descriptor("application/spdx+json", A.digest, 1), {})
    assert "annotations" not in json.loads(bare)["layers"][0]  # as oras attach writes a layer without any
