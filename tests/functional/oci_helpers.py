"""Building and pushing OCI content over /v2 in tests, the way clients do it."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from hoist.domain.digests import Digest
from hoist.domain.manifests import EMPTY_BLOB, EMPTY_DIGEST, EMPTY_MEDIA_TYPE, OCI_INDEX, OCI_MANIFEST

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"


def push_blob(http: httpx.Client, name: str, data: bytes) -> dict[str, Any]:
    """Monolithic upload (POST then PUT); returns the descriptor fields."""
    start = http.post(f"/v2/{name}/blobs/uploads/")
    assert start.status_code == 202, start.text
    done = http.put(start.headers["location"], params={"digest": str(Digest.of(data))}, content=data)
    assert done.status_code == 201, done.text
    return {"digest": str(Digest.of(data)), "size": len(data)}


def image_manifest(
    http: httpx.Client,
    name: str,
    *,
    layers: int = 1,
    config: bytes | None = None,
    layer_size: int = 1000,
    subject: dict[str, Any] | None = None,
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
) -> bytes:
    """Upload a config and some random layers, and return the manifest that names them."""
    config = config if config is not None else json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    cfg = push_blob(http, name, config)
    descriptors = [{"mediaType": LAYER, **push_blob(http, name, os.urandom(layer_size))} for _ in range(layers)]
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = {"mediaType": CONFIG, **cfg}
    doc["layers"] = descriptors
    if subject:
        doc["subject"] = subject
    if annotations:
        doc["annotations"] = annotations
    return json.dumps(doc).encode()


def artifact_manifest(
    http: httpx.Client,
    name: str,
    subject: dict[str, Any],
    artifact_type: str,
    payload: bytes = b'{"payload": true}',
    annotations: dict[str, str] | None = None,
) -> bytes:
    """An oras/cosign-style artifact: empty config, one layer, a subject."""
    push_blob(http, name, EMPTY_BLOB)
    layer = push_blob(http, name, payload)
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": str(EMPTY_DIGEST), "size": 2},
        "layers": [{"mediaType": "application/json", **layer}],
        "subject": subject,
    }
    if annotations:
        doc["annotations"] = annotations
    return json.dumps(doc).encode()


def put_manifest(
    http: httpx.Client, name: str, reference: str, raw: bytes, media_type: str = OCI_MANIFEST, **params: Any
) -> httpx.Response:
    return http.put(f"/v2/{name}/manifests/{reference}", content=raw, headers={"Content-Type": media_type}, params=params)


def descriptor(raw: bytes, media_type: str = OCI_MANIFEST) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": str(Digest.of(raw)), "size": len(raw)}


def index(children: list[dict[str, Any]]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}).encode()


def oci_error(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["code"]
    return code
