"""Tarballs as npm packs them (a gzipped tar with ``package/package.json``), built in memory."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
from typing import Any

from hoist.domain.digests import Digest
from hoist.domain.models import CHECKSUM_ALGORITHMS, FileEntry
from hoist.formats.common.ingest import Received


def tarball(manifest: dict[str, Any] | None, *, folder: str = "package", extra: dict[str, bytes] | None = None) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        files = dict(extra or {})
        if manifest is not None:
            files["package.json"] = json.dumps(manifest).encode()
        for name, data in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def publish_document(name: str, version: str, data: bytes, **manifest: Any) -> dict[str, Any]:
    """The body ``npm publish`` sends (libnpmpublish's buildMetadata), without client digests."""
    return {
        "_id": name,
        "name": name,
        "dist-tags": {"latest": version},
        "versions": {version: {"name": name, "version": version, **manifest, "dist": {}}},
        "access": None,
        "_attachments": {
            f"{name}-{version}.tgz": {
                "content_type": "application/octet-stream",
                "data": base64.b64encode(data).decode(),
                "length": len(data),
            }
        },
    }


def entry(name: str, data: bytes) -> FileEntry:
    """The file entry ingest records for ``data``: its digest and the checksums npm reads."""
    sums = {alg: hashlib.new(alg, data).hexdigest() for alg in ("sha256", *CHECKSUM_ALGORITHMS)}
    return Received(Digest("sha256", sums["sha256"]), len(data), sums).entry(name)
