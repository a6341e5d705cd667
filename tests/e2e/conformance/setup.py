"""The suite's options and test data (the Go suite's setup.go): what it pushes, built the way it
builds it."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import tarfile
import uuid
from dataclasses import dataclass
from typing import Any

from hoist.domain.digests import Digest

# The Go suite's environment variables, as Hoist's configuration calls for them. The four
# OCI_TEST_<WORKFLOW> switches are all on: every workflow always runs.
OPTIONS: dict[str, str] = {
    "OCI_NAMESPACE": "dev/conformance",  # dev takes direct pushes and allows deletes
    "OCI_CROSSMOUNT_NAMESPACE": "dev/conformance-mount",
    "OCI_USERNAME": "conformance",  # a developer: read, push and delete on dev, nothing else
    "OCI_DELETE_MANIFEST_BEFORE_BLOBS": "1",
    "OCI_AUTOMATIC_CROSSMOUNT": "1",  # a mount without from= links a blob the client may read elsewhere
}
NAME = OPTIONS["OCI_NAMESPACE"]
MOUNT_NAME = OPTIONS["OCI_CROSSMOUNT_NAMESPACE"]
DELETE_MANIFEST_BEFORE_BLOBS = OPTIONS["OCI_DELETE_MANIFEST_BEFORE_BLOBS"] == "1"
AUTOMATIC_CROSSMOUNT = OPTIONS["OCI_AUTOMATIC_CROSSMOUNT"] == "1"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
EMPTY_JSON_TYPE = "application/vnd.oci.empty.v1+json"
ARTIFACT_A = "application/vnd.hoist.conformance.apple"
ARTIFACT_B = "application/vnd.hoist.conformance.banana"
ARTIFACT_INDEX = "application/vnd.hoist.conformance.basket"
ANNOTATION = "org.opencontainers.conformance.test"
TAG = "tagtest0"
EMPTY_LAYER_TAG = "emptylayer"
NONEXISTENT_MANIFEST = ".INVALID_MANIFEST_NAME"
ERROR_CODES = {
    "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "MANIFEST_UNVERIFIED", "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID",
    "TAG_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED",
}  # fmt: skip


# -- test data, built the way the Go suite builds it (Go's json.MarshalIndent with tabs) -----------


@dataclass(frozen=True)
class Blob:
    content: bytes

    @property
    def digest(self) -> str:
        return str(Digest.of(self.content))

    @property
    def length(self) -> str:
        return str(len(self.content))

    def descriptor(self, media_type: str, *, data: bool = False, extra: bool = False) -> dict[str, Any]:
        """Go's descriptor struct: ``data`` and ``newUnspecifiedField`` are always there (null when
        unset), so a registry must store and serve fields it does not know."""
        return {
            "mediaType": media_type,
            "digest": self.digest,
            "size": len(self.content),
            "data": base64.b64encode(self.content).decode() if data else None,
            "newUnspecifiedField": base64.b64encode(b"hello world").decode() if extra else None,
        }


def marshal(doc: dict[str, Any]) -> Blob:
    return Blob(json.dumps(doc, indent="\t").encode())


def manifest(
    config: dict[str, Any],
    layers: list[dict[str, Any]],
    *,
    artifact_type: str | None = None,
    subject: Blob | None = None,
    annotation: str | None = None,
) -> Blob:
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc |= {"config": config, "layers": layers}
    if subject is not None:
        doc["subject"] = subject.descriptor(OCI_MANIFEST)
    if annotation is not None:
        doc["annotations"] = {ANNOTATION: annotation}
    return marshal(doc)


def index(children: list[dict[str, Any]], *, subject: Blob | None = None, annotation: str | None = None) -> Blob:
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "artifactType": ARTIFACT_INDEX, "manifests": children}
    if subject is not None:
        doc["subject"] = subject.descriptor(OCI_MANIFEST)
    if annotation is not None:
        doc["annotations"] = {ANNOTATION: annotation}
    return marshal(doc)


def tarball(text: bytes) -> bytes:
    """A gzipped tar with one file, as the suite's layer."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("test.txt")
        info.size, info.mtime = len(text), 0
        tar.addfile(info, io.BytesIO(text))
    return gzip.compress(raw.getvalue(), mtime=0)


class Data:
    """Everything the suite pushes; configs and manifests are unique per run (a random author), as
    the Go suite makes them, so that runs never see each other's content."""

    def __init__(self) -> None:
        self.configs = [
            marshal(
                {
                    "author": uuid.uuid4().hex[:16],
                    "architecture": "amd64",
                    "os": "linux",
                    "rootfs": {"type": "layers", "diff_ids": []},
                }
            )
            for _ in range(5)
        ]
        # over 500 bytes (random text does not compress away), for the pull workflow's Range checks
        self.layer = Blob(tarball(os.urandom(512).hex().encode()))
        layers = [self.layer.descriptor(OCI_LAYER)]
        self.manifests = [manifest(c.descriptor(OCI_CONFIG, data=True, extra=True), layers) for c in self.configs]
        self.empty = Blob(b"{}")
        self.blob_a = Blob(os.urandom(42))
        self.blob_b = Blob(os.urandom(42))
        self.chunk1, self.chunk2 = self.blob_b.content[:22], self.blob_b.content[22:]
        self.ref_a = Blob(b"an apple for the conformance suite")
        self.ref_b = Blob(b"a banana for the conformance suite")
        self.dummy = str(Digest.of(b"hello world"))
        empty = self.empty.descriptor(EMPTY_JSON_TYPE)
        # push: an artifact typed by its config, one typed by artifactType, an image without layers,
        # an index and an index of it, and a referrer of a manifest never pushed (dangling subject)
        self.config_type = manifest(self.ref_a.descriptor(ARTIFACT_A), layers)
        self.artifact_type = manifest(empty, [self.ref_a.descriptor(ARTIFACT_A)], artifact_type=ARTIFACT_A)
        self.empty_layer = manifest(self.configs[1].descriptor(OCI_CONFIG, data=True, extra=True), [empty])
        self.image_index = index([self.manifests[0].descriptor(OCI_MANIFEST)], annotation="test index")
        self.nested_index = index([self.image_index.descriptor(OCI_INDEX)], annotation="test index")
        self.dangling = manifest(
            empty, [self.ref_b.descriptor(ARTIFACT_B)], artifact_type=ARTIFACT_B, subject=self.manifests[3]
        )
        # content discovery: four referrers of manifests[4] (typed by config or by artifactType,
        # A or B), and an index referring to it too, each with one annotation
        subject = self.manifests[4]
        self.a_config = manifest(self.ref_a.descriptor(ARTIFACT_A), [empty], subject=subject, annotation="test config a")
        self.b_config = manifest(self.ref_b.descriptor(ARTIFACT_B), [empty], subject=subject, annotation="test config b")
        self.a_layer = manifest(
            empty, [self.ref_a.descriptor(ARTIFACT_A)], artifact_type=ARTIFACT_A, subject=subject, annotation="test layer a"
        )
        self.b_layer = manifest(
            empty, [self.ref_b.descriptor(ARTIFACT_B)], artifact_type=ARTIFACT_B, subject=subject, annotation="test layer b"
        )
        self.referrer_index = index(
            [self.a_config.descriptor(OCI_MANIFEST), self.a_layer.descriptor(OCI_MANIFEST)],
            subject=subject,
            annotation="test index",
        )
        self.annotations = {
            m.digest: json.loads(m.content)["annotations"][ANNOTATION]
            for m in (self.a_config, self.b_config, self.a_layer, self.b_layer, self.referrer_index)
        }
