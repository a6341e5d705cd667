"""OCI manifests: how Hoist stores every artifact, and how it reads manifests back.

A generic artifact is an OCI image manifest with ``artifactType`` set, the empty config, and one
layer per file, named by the ``org.opencontainers.image.title`` annotation (the oras convention;
image-spec ``manifest.md``, "Guidelines for Artifact Usage"). The manifest is built
deterministically from the package, the version and the files, so pushing identical bytes again
yields the identical digest and is a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidDigest, InvalidManifest
from hoist.domain.jsonlimits import MANIFEST_BYTES, read_json
from hoist.domain.models import CHECKSUM_ALGORITHMS, FileEntry
from hoist.domain.names import validate_file_name
from hoist.domain.versions import Version

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_BLOB = b"{}"
EMPTY_DIGEST = Digest.of(EMPTY_BLOB)
GENERIC_ARTIFACT_TYPE = "application/vnd.hoist.generic.v1"
TITLE = "org.opencontainers.image.title"
VERSION_ANNOTATION = "org.opencontainers.image.version"
PACKAGE_ANNOTATION = "dev.hoist.package"
CHECKSUM_ANNOTATION = "dev.hoist.checksum."  # + md5, sha1, sha512: computed by the server on arrival
# Layers a registry need not hold: they are fetched from the descriptor's ``urls`` (image-spec
# layer.md, "Non-distributable layers"; Docker's foreign layers, e.g. Windows base images).
NONDISTRIBUTABLE = frozenset(
    {
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    }
)
MAX_MANIFEST_BYTES = MANIFEST_BYTES


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    urls: tuple[str, ...] = ()

    @property
    def foreign(self) -> bool:
        """A non-distributable layer: its bytes may never have been uploaded here."""
        return bool(self.urls) or self.media_type in NONDISTRIBUTABLE


@dataclass(frozen=True, slots=True)
class Manifest:
    raw: bytes
    digest: Digest
    media_type: str
    artifact_type: str | None
    config: Descriptor | None
    layers: tuple[Descriptor, ...]
    manifests: tuple[Descriptor, ...]
    subject: Descriptor | None
    annotations: dict[str, str]

    @property
    def is_index(self) -> bool:
        return self.media_type in {OCI_INDEX, DOCKER_LIST}

    def blob_digests(self) -> tuple[Digest, ...]:
        """The blobs this manifest needs from the registry: its config and its layers, except
        foreign ones (their bytes live at their URLs)."""
        return tuple(d.digest for _, d in self.blob_descriptors() if not d.foreign)

    def blob_descriptors(self) -> tuple[tuple[str, Descriptor], ...]:
        """The config and every layer, foreign ones included, each with where it stands
        (``config``, ``layers[2]``)."""
        found = [("config", self.config)] if self.config else []
        return tuple(found + [(f"layers[{i}]", d) for i, d in enumerate(self.layers)])

    def files(self) -> tuple[FileEntry, ...]:
        """The files of a generic artifact: every layer with a title."""
        return tuple(
            FileEntry(d.annotations[TITLE], d.digest, d.size, d.media_type, _checksums(d.annotations))
            for d in self.layers
            if TITLE in d.annotations
        )


def _checksums(annotations: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (key[len(CHECKSUM_ANNOTATION) :], value)
            for key, value in annotations.items()
            if key.startswith(CHECKSUM_ANNOTATION) and key[len(CHECKSUM_ANNOTATION) :] in CHECKSUM_ALGORITHMS
        )
    )


@dataclass(frozen=True, slots=True)
class SizeMismatch:
    """A descriptor declares a size the stored content it names does not have: a client would
    fetch the bytes, count them and fail only at pull time."""

    descriptor: str  # where it stands in the manifest: config, layers[i], manifests[i]
    digest: Digest
    declared: int
    stored: int

    @property
    def message(self) -> str:
        return (
            f"{self.descriptor} declares {self.digest} to be {self.declared} bytes, "
            f"but the stored content holds {self.stored}"
        )

    def as_dict(self) -> dict[str, str | int]:
        return {"descriptor": self.descriptor, "digest": str(self.digest), "declared": self.declared, "stored": self.stored}


SizeOf = Callable[[Digest], int | None]  # the stored size of a digest, None when it is not stored


def size_mismatches(manifest: Manifest, blob_size: SizeOf, manifest_size: SizeOf) -> list[SizeMismatch]:
    """Every descriptor whose ``size`` disagrees with what is stored under its digest: the config
    and layers against their blobs, an index's children against the stored manifests' lengths.
    What is not stored is left to the presence checks."""
    named = [(where, d, blob_size) for where, d in manifest.blob_descriptors()]
    named += [(f"manifests[{i}]", d, manifest_size) for i, d in enumerate(manifest.manifests)]
    found = []
    for where, d, size_of in named:
        stored = size_of(d.digest)
        if stored is not None and stored != d.size:
            found.append(SizeMismatch(where, d.digest, d.size, stored))
    return found


def generic_manifest(package: str, version: Version, files: list[FileEntry]) -> bytes:
    if not files:
        raise InvalidManifest("an artifact needs at least one file")
    names = [validate_file_name(f.name) for f in files]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidManifest(f"file names must be unique within an artifact: {', '.join(duplicates)}")
    layers = [
        {
            "mediaType": f.media_type,
            "digest": str(f.digest),
            "size": f.size,
            "annotations": {TITLE: f.name, **{CHECKSUM_ANNOTATION + alg: hexed for alg, hexed in f.checksums}},
        }
        for f in sorted(files, key=lambda f: f.name)
    ]
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": GENERIC_ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": str(EMPTY_DIGEST), "size": len(EMPTY_BLOB)},
        "layers": layers,
        "annotations": {PACKAGE_ANNOTATION: package, VERSION_ANNOTATION: str(version)},
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def referrer_manifest(subject: Descriptor, artifact_type: str, layer: Descriptor, annotations: dict[str, str]) -> bytes:
    """A manifest about ``subject`` (a signed statement, an SBOM), as ``oras attach`` stores one: one
    layer on the empty config, listed by the subject's referrers (image-spec ``manifest.md``, "subject")."""
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": str(EMPTY_DIGEST), "size": len(EMPTY_BLOB)},
        "layers": [_plain(layer)],
        "subject": _plain(subject),
        "annotations": annotations,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _plain(d: Descriptor) -> dict[str, Any]:
    out: dict[str, Any] = {"mediaType": d.media_type, "digest": str(d.digest), "size": d.size}
    if d.annotations:
        out["annotations"] = d.annotations
    return out


def parse_manifest(raw: bytes, media_type: str | None = None, algorithm: str = "sha256") -> Manifest:
    """Read and check a manifest or index; ``media_type`` is the Content-Type it arrived with, and
    ``algorithm`` the one its digest is named in (a client may push by sha512)."""
    doc = read_json(raw, limit=MAX_MANIFEST_BYTES, where="manifest", invalid=InvalidManifest)
    if not isinstance(doc, dict):
        raise InvalidManifest("manifest must be a JSON object")
    if doc.get("schemaVersion") != 2:
        raise InvalidManifest("manifest schemaVersion must be 2")
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise InvalidManifest("manifest mediaType must be a string")
    if declared and media_type and declared != media_type:
        raise InvalidManifest(f"manifest mediaType {declared!r} does not match Content-Type {media_type!r}")
    kind = declared or media_type or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
    is_index = kind in {OCI_INDEX, DOCKER_LIST} or ("manifests" in doc and "layers" not in doc)
    config = None if is_index else _descriptor(doc.get("config"), "config")
    layers = () if is_index else _descriptors(doc.get("layers", []), "layers")
    children = _descriptors(doc.get("manifests", []), "manifests") if is_index else ()
    subject = _descriptor(doc["subject"], "subject") if doc.get("subject") is not None else None
    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise InvalidManifest("artifactType must be a string")
    return Manifest(
        raw=raw,
        digest=Digest.of(raw, algorithm),
        media_type=kind,
        artifact_type=artifact_type,
        config=config,
        layers=layers,
        manifests=children,
        subject=subject,
        annotations=_annotations(doc.get("annotations"), "annotations"),
    )


def _descriptors(value: Any, where: str) -> tuple[Descriptor, ...]:
    if not isinstance(value, list):
        raise InvalidManifest(f"{where} must be a list of descriptors")
    return tuple(_descriptor(item, f"{where}[{i}]") for i, item in enumerate(value))


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise InvalidManifest(f"{where} must be a descriptor object")
    media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise InvalidManifest(f"{where}.mediaType must be a non-empty string")
    if not isinstance(digest, str):
        raise InvalidManifest(f"{where}.digest must be a string")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidManifest(f"{where}.size must be a non-negative integer")
    try:
        parsed = Digest.parse(digest)
    except InvalidDigest as exc:
        raise InvalidManifest(f"{where}.digest: {exc.message}") from None
    artifact_type = value.get("artifactType")
    urls = value.get("urls", [])
    if not isinstance(urls, list) or not all(isinstance(u, str) and u for u in urls):
        raise InvalidManifest(f"{where}.urls must be a list of URLs")
    return Descriptor(
        media_type=media_type,
        digest=parsed,
        size=size,
        annotations=_annotations(value.get("annotations"), f"{where}.annotations"),
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        urls=tuple(urls),
    )


def _annotations(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidManifest(f"{where} must map strings to strings")
    return dict(value)
