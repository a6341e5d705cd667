"""A registry's package view (``PackageService.view``) as maven-metadata.xml.

``lastUpdated`` comes from the data, never from the clock: the same holdings render the same bytes,
so a ``.sha1`` fetched after the metadata always matches it.
"""

from __future__ import annotations

from collections.abc import Sequence

from hoist.domain.ports import ListedVersion
from hoist.domain.versions import Channel
from hoist.formats.maven.layout import Coordinates, snapshot_files
from hoist.formats.maven.metadata import SnapshotFile, render_artifact, render_snapshot


def artifact_metadata(coordinates: Coordinates, versions: Sequence[ListedVersion]) -> bytes:
    """``versions`` as the view lists them: in version order."""
    return render_artifact(
        coordinates,
        [v.artifact.version.canonical for v in versions],
        [v.artifact.version.channel is Channel.SNAPSHOT for v in versions],
        max(max(v.placement.placed_at, v.artifact.pushed_at) for v in versions),
    )


def snapshot_metadata(coordinates: Coordinates, listed: ListedVersion) -> bytes:
    version = listed.artifact.version.canonical
    builds = snapshot_files(coordinates.artifact, version, (f.name for f in listed.manifest.files()))
    files = [SnapshotFile(f.classifier, f.extension, f.stamp) for f in builds if f.stamp is not None]
    updated = max([listed.placement.placed_at, *(f.stamp.time for f in files)])
    return render_snapshot(coordinates, version, files, updated)
