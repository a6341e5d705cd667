"""What artifacts contain: SBOMs generated at push or supplied (by `hoist sbom attach` or as an OCI
referrer), indexed by component, and the "am I affected?" query answered from that index."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from hoist.domain.access import Permission, Right
from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput, NotFound
from hoist.domain.events import Action
from hoist.domain.inventory import AdvisoryMatcher, Running, SbomReader, SbomRecord
from hoist.domain.jsonlimits import SBOM_BYTES
from hoist.domain.manifests import (
    Descriptor,
    Manifest,
)
from hoist.domain.models import GENERIC, Actor, Artifact, ArtifactRef, Pipeline
from hoist.domain.ports import MetadataSession, MetadataStore
from hoist.domain.sbom import CYCLONEDX_MEDIA_TYPE, SPDX_MEDIA_TYPE, Component, SbomDocument
from hoist.services.base import Clock, artifact_event, retrying, utcnow
from hoist.services.blobs import Blobs
from hoist.services.catalog import holding, resolve
from hoist.services.guard import Guard
from hoist.services.reachability import stored_descriptors
from hoist.services.statements import place_referrer, rfc3339

log = logging.getLogger(__name__)

SBOM_MEDIA_TYPES = {CYCLONEDX_MEDIA_TYPE, SPDX_MEDIA_TYPE, "application/vnd.cyclonedx+json;version=1.6", "text/spdx+json"}
MAX_SBOM_BYTES = SBOM_BYTES
_IMAGE_CONFIGS = {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
_SMALL_LAYER = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AffectedArtifact:
    package: str
    version: str
    digest: str
    registries: tuple[str, ...]
    components: tuple[Component, ...]


@dataclass(frozen=True, slots=True)
class AffectedReport:
    query: str
    range: str | None
    artifacts: list[AffectedArtifact]
    running: list[Running]


class InventoryService:
    def __init__(
        self,
        metadata: MetadataStore,
        blobs: Blobs,
        reader: SbomReader,
        matcher: AdvisoryMatcher,
        guard: Guard,
        clock: Clock = utcnow,
    ) -> None:
        self._guard = guard
        self._metadata = metadata
        self._blobs = blobs
        self._reader = reader
        self._matcher = matcher
        self._clock = clock

    # -- arrival ----------------------------------------------------------------------------------

    def on_manifest(self, registry: str, package: str, manifest: Manifest) -> None:
        """Called after a manifest is stored: index a supplied SBOM referrer, or generate an SBOM
        for a new artifact version that has none. Never fails the push that triggered it."""
        try:
            layer = _sbom_layer(manifest)
            if manifest.subject is not None and layer is not None:
                sbom = self._reader.read(self._read(layer.digest))
                with self._metadata.session() as s:
                    s.sboms.add(manifest.subject.digest, layer.digest, sbom, now=self._clock())
            else:
                self._generate_if_missing(package, manifest)
        except InvalidInput as exc:
            log.warning("no SBOM for %s/%s@%s: %s", registry, package, manifest.digest, exc.message)
        except Exception:  # best effort after the push committed: the SBOM gate will say it is missing
            log.warning("no SBOM for %s/%s@%s", registry, package, manifest.digest, exc_info=True)

    def _generate_if_missing(self, package: str, manifest: Manifest) -> None:
        with self._metadata.reader() as s:
            artifact = s.artifacts.by_digest(package, manifest.digest)
            if artifact is None or s.sboms.of(manifest.digest):
                return
        now = self._clock()
        sbom = self._generate(artifact, manifest, now)
        document = self._blobs.put(sbom.raw)

        def unit_of_work() -> None:
            with self._metadata.session() as s:
                if s.sboms.add(artifact.digest, document, sbom, now=now) is not None:
                    registries = [p.registry for p in s.placements.of(artifact.id)]
                    self._attach_referrer(s, artifact, registries, sbom, document)

        retrying(unit_of_work)

    def _generate(self, artifact: Artifact, manifest: Manifest, now: Any) -> SbomDocument:
        name, version = artifact.package, str(artifact.version)
        if artifact.format == GENERIC or not _is_image(manifest):
            with self._files(manifest) as files:
                return self._reader.generate_for_files(files, name=name, version=version, now=now)
        image = self._platform_image(manifest)
        stored = {d.digest for d in stored_descriptors(image, self._blobs)}  # foreign layers are not known here
        layers = [(d.media_type, self._opener(d.digest)) for d in image.layers if d.digest in stored]
        return self._reader.generate_for_image(layers, name=name, version=version, digest=str(artifact.digest), now=now)

    def _platform_image(self, manifest: Manifest) -> Manifest:
        """An index's linux/amd64 image (else its first image): one SBOM per artifact digest."""
        if not manifest.is_index:
            return manifest
        with self._metadata.reader() as s:
            children = [s.manifests.get(d.digest) for d in manifest.manifests]
        images = [c for c in children if c is not None and not c.is_index]
        if not images:
            raise InvalidInput("the index lists no image manifests")
        return images[0]

    @contextlib.contextmanager
    def _files(self, manifest: Manifest) -> Iterator[list[tuple[Path, str]]]:
        entries = [_Entry(f.name, f.digest) for f in manifest.files()] or [
            _Entry(f"layer-{i}", d.digest) for i, d in enumerate(manifest.layers)
        ]
        with tempfile.TemporaryDirectory(prefix="hoist-sbom-") as tmp:
            files = []
            for i, entry in enumerate(entries):
                path = self._blobs.path(entry.digest)
                if path is None:  # an object store: spool the file to disk once
                    path = Path(tmp) / str(i)
                    with self._blobs.open(entry.digest) as src, path.open("wb") as dst:
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                files.append((path, entry.name))
            yield files

    def _opener(self, digest: Digest) -> Callable[[], BinaryIO]:
        return lambda: self._blobs.open(digest)

    def _read(self, digest: Digest, size: int | None = None) -> bytes:
        size = self._blobs.stat(digest).size if size is None else size
        if size > MAX_SBOM_BYTES:
            raise InvalidInput(f"the SBOM is {size} bytes; at most {MAX_SBOM_BYTES} are accepted")
        with self._blobs.open(digest) as f:
            return f.read(size)

    def _attach_referrer(
        self, s: MetadataSession, artifact: Artifact, registries: Sequence[str], sbom: SbomDocument, document: Digest
    ) -> Digest:
        """The SBOM as an OCI referrer of the artifact, as `oras attach` would store it: it travels with promotions."""
        now = self._clock()
        layer = Descriptor(sbom.media_type, document, len(sbom.raw))
        annotations = {
            "dev.hoist.sbom.generated": str(sbom.generated).lower(),
            "org.opencontainers.image.created": rfc3339(now),
        }
        return place_referrer(s, self._blobs, artifact, registries, sbom.media_type, layer, annotations, now=now)

    # -- commands ---------------------------------------------------------------------------------

    def attach(self, ref: ArtifactRef, data: bytes, *, actor: Actor, pipeline: Pipeline | None = None) -> dict[str, Any]:
        """`hoist sbom attach`: validate a supplied CycloneDX or SPDX 2.3 SBOM and index it."""
        if len(data) > MAX_SBOM_BYTES:
            raise InvalidInput(f"the SBOM is {len(data)} bytes; at most {MAX_SBOM_BYTES} are accepted")
        needed = [Permission(Right.PUSH, r) for r in holding(self._metadata, ref)]
        self._guard.require_any(actor, needed, asked=f"attach an SBOM to {ref}", subject=str(ref))
        sbom = self._reader.read(data)
        document = self._blobs.put(data)

        def unit_of_work() -> dict[str, Any]:
            with self._metadata.session() as s:
                artifact = resolve(s, ref)
                now = self._clock()
                record = s.sboms.add(artifact.digest, document, sbom, now=now)
                if record is not None:
                    registries = [p.registry for p in s.placements.of(artifact.id)]
                    self._attach_referrer(s, artifact, registries, sbom, document)
                    s.audit.append(
                        artifact_event(
                            Action.SBOM,
                            artifact,
                            actor,
                            pipeline,
                            document=str(document),
                            format=str(sbom.format),
                            spec_version=sbom.spec_version,
                            components=len(sbom.components),
                        ),
                        now=now,
                    )
                return {
                    "artifact": artifact.ref,
                    "digest": str(artifact.digest),
                    "document": str(document),
                    "format": str(sbom.format),
                    "spec_version": sbom.spec_version,
                    "components": len(set(sbom.components)),
                    "created": record is not None,
                }

        return retrying(unit_of_work)

    def components(self, ref: ArtifactRef, *, actor: Actor) -> int | None:
        """How many components the artifact's SBOM (as ``document`` chooses it) lists; None without one."""
        self._guard.require_read(actor, holding(self._metadata, ref), asked=f"read the SBOM of {ref}", subject=str(ref))
        with self._metadata.reader() as s:
            records = s.sboms.of(resolve(s, ref).digest)
        return _chosen(records).components if records else None

    def document(self, ref: ArtifactRef, *, actor: Actor, spdx: bool = False) -> tuple[bytes, str]:
        """The artifact's SBOM (the supplied one if any, else the generated one), optionally as SPDX 2.3."""
        self._guard.require_read(actor, holding(self._metadata, ref), asked=f"read the SBOM of {ref}", subject=str(ref))
        with self._metadata.reader() as s:
            artifact = resolve(s, ref)
            records = s.sboms.of(artifact.digest)
        if not records:
            raise NotFound(f"{artifact.ref} has no SBOM: attach one with `hoist sbom attach`", ref=str(ref))
        record = _chosen(records)
        raw = self._read(record.document)
        sbom = self._reader.read(raw)
        if not spdx or str(sbom.format) == "spdx":
            return raw, sbom.media_type
        namespace = f"https://hoist.dev/spdx/{artifact.package}/{artifact.version}/{artifact.digest.hex}"
        return self._reader.to_spdx(sbom, namespace=namespace, now=record.created_at), SPDX_MEDIA_TYPE

    def affected(self, query: str, range_spec: str | None = None, *, actor: Actor) -> AffectedReport:
        """Every artifact containing a matching component, and every environment running one now
        (of the artifacts in a registry ``actor`` may read)."""
        q = self._matcher.parse_query(query)
        wanted = self._matcher.parse_range(range_spec, q.type) if range_spec else None
        key, name = (q.key, None) if (q.type or "/" in q.key) else (None, q.name.lower())
        with self._metadata.reader() as s:
            chosen = None
            if q.version is not None:  # an exact version: let the index pick the rows
                chosen = [(t, v) for t, v in s.sboms.versions_of(key=key, name=name, type=q.type) if v == q.version]
            hits = s.sboms.containing(key=key, name=name, type=q.type, versions=chosen)
            if wanted is not None:  # a range: decided once per distinct (type, version), over one lookup
                verdicts: dict[tuple[str, str | None], bool] = {}
                for hit in hits:
                    c = hit.component
                    if (c.type, c.version) not in verdicts:
                        verdicts[c.type, c.version] = c.version is not None and wanted.contains(c.version, c.type)
                hits = [h for h in hits if verdicts[h.component.type, h.component.version]]
            found: dict[tuple[Digest, str, str], tuple[set[str], set[Component]]] = {}
            for hit in hits:
                registries, components = found.setdefault((hit.subject, hit.package, hit.version), (set(), set()))
                registries.add(hit.registry)
                components.add(hit.component)
            artifacts = [
                AffectedArtifact(
                    package,
                    version,
                    str(digest),
                    tuple(sorted(registries)),
                    tuple(sorted(components, key=lambda c: (c.type, c.key, c.version or ""))),
                )
                for (digest, package, version), (registries, components) in found.items()
            ]
            subjects = {digest for digest, _, _ in found}
            running = [r for r in s.sboms.running() if r.digest in subjects]
        artifacts = [a for a in artifacts if any(actor.may(Right.READ, r) for r in a.registries)]
        shown = {(a.package, a.digest) for a in artifacts}
        running = [r for r in running if (r.package, str(r.digest)) in shown]
        artifacts.sort(key=lambda a: (a.package, a.version))
        running.sort(key=lambda r: (r.environment, r.package))
        return AffectedReport(query, range_spec, artifacts, running)


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    digest: Digest


def _sbom_layer(manifest: Manifest) -> Descriptor | None:
    kind = manifest.artifact_type or (manifest.config.media_type if manifest.config else None)
    for layer in manifest.layers:
        if layer.media_type.split(";")[0] in SBOM_MEDIA_TYPES or (kind in SBOM_MEDIA_TYPES and len(manifest.layers) == 1):
            return layer
    return None


def _is_image(manifest: Manifest) -> bool:
    return manifest.is_index or (manifest.config is not None and manifest.config.media_type in _IMAGE_CONFIGS)


def _chosen(records: Sequence[SbomRecord]) -> SbomRecord:
    """The SBOM shown for an artifact: a supplied one before a generated one, the newest first."""
    return sorted(records, key=lambda r: (r.generated, -r.id))[0]
