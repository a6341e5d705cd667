"""Distribution files: what their names say (the binary distribution format's wheel names, PEP 625
sdists) and the core metadata inside them, read from the file itself and never from the upload form.

Only ``.whl`` and ``.tar.gz`` are taken: eggs, ``.zip`` sdists and other legacy formats are refused,
as PyPI refuses them.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from email.errors import MessageError
from typing import IO, BinaryIO, Literal

from packaging.metadata import parse_email
from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from hoist.domain.errors import InvalidInput
from hoist.domain.pep440 import Pep440
from hoist.formats.pypi.names import hoist_version, normalise, pep440

Kind = Literal["bdist_wheel", "sdist"]

# A file name is a path segment of every download URL: keep it to what wheel and sdist names use.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
MAX_METADATA = 4 * 1024 * 1024
# An sdist is read as a stream up to its PKG-INFO: a gzip bomb must not make that unbounded.
MAX_SDIST_SCAN = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Distribution:
    """One distribution file as its name describes it."""

    filename: str
    project: str  # PEP 503 normalised
    version: Version
    build: int | None  # the wheel's build tag, when it has one
    kind: Kind

    @property
    def hoist_version(self) -> Pep440:
        """The Hoist version this file joins (``names.hoist_version``)."""
        return hoist_version(self.version, self.build)

    @property
    def metadata_name(self) -> str:
        """PEP 658's name for the core metadata file served beside this file."""
        return self.filename + ".metadata"


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    """The fields of a file's core metadata that the index and the checks use, plus its raw bytes."""

    name: str
    version: Version
    requires_python: str | None
    raw: bytes


def parse_filename(filename: str) -> Distribution:
    if not _SAFE_NAME.fullmatch(filename):
        raise InvalidInput(f"{filename[:255]!r} is not a distribution file name")
    if filename.endswith(".whl"):
        try:
            name, version, build_tag, _tags = parse_wheel_filename(filename)
        except InvalidWheelFilename as exc:
            raise InvalidInput(f"{filename!r} is not a wheel file name: {exc}") from None
        build = None
        if build_tag:
            number, suffix = build_tag
            if suffix:  # Hoist's build is a number; a tag like '1abc' has no place to go
                raise InvalidInput(f"{filename!r}: the build tag must be a number to be Hoist's build, not {number}{suffix}")
            build = number
        return Distribution(filename, normalise(name), _public(version, filename), build, "bdist_wheel")
    if filename.endswith(".tar.gz"):
        try:
            name, version = parse_sdist_filename(filename)
        except InvalidSdistFilename as exc:
            raise InvalidInput(f"{filename!r} is not an sdist file name: {exc}") from None
        return Distribution(filename, normalise(name), _public(version, filename), None, "sdist")
    raise InvalidInput(f"{filename!r} is neither a wheel (.whl) nor an sdist (.tar.gz)")


def _public(version: Version, filename: str) -> Version:
    if version.local is not None:
        raise InvalidInput(f"{filename!r} has a local version ('+{version.local}'), which an index cannot serve")
    return version


def read_metadata(dist: Distribution, file: BinaryIO) -> CoreMetadata:
    """The core metadata inside ``file``: a wheel's ``*.dist-info/METADATA`` (``file`` must be
    seekable), an sdist's ``<name>-<version>/PKG-INFO`` (read as a stream)."""
    raw = _wheel_metadata(dist, file) if dist.kind == "bdist_wheel" else _sdist_metadata(dist, file)
    return parse_metadata(raw, dist.filename)


def parse_metadata(raw: bytes, where: str) -> CoreMetadata:
    try:
        fields, _unparsed = parse_email(raw)
    except (MessageError, ValueError, UnicodeDecodeError):
        raise InvalidInput(f"the core metadata in {where} cannot be read") from None
    name, version = fields.get("name"), fields.get("version")
    if not name or not version:
        raise InvalidInput(f"the core metadata in {where} has no Name or no Version")
    requires = fields.get("requires_python")
    return CoreMetadata(normalise(name), pep440(version), requires or None, raw)


def _wheel_metadata(dist: Distribution, file: BinaryIO) -> bytes:
    try:
        with zipfile.ZipFile(file) as wheel:
            found = [i for i in wheel.infolist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", i.filename)]
            if len(found) != 1:
                raise InvalidInput(f"{dist.filename} must hold exactly one *.dist-info/METADATA, it holds {len(found)}")
            if found[0].file_size > MAX_METADATA:
                raise InvalidInput(f"the METADATA of {dist.filename} is larger than {MAX_METADATA} bytes")
            with wheel.open(found[0]) as member:
                return _read_capped(member, dist.filename)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
        raise InvalidInput(f"{dist.filename} is not a readable wheel (zip) file") from None


def _sdist_metadata(dist: Distribution, file: BinaryIO) -> bytes:
    try:
        with (
            gzip.GzipFile(fileobj=file, mode="rb") as unzipped,
            tarfile.open(fileobj=_Capped(unzipped, dist.filename), mode="r|") as archive,
        ):
            for member in archive:
                if member.isfile() and re.fullmatch(r"[^/]+/PKG-INFO", member.name):
                    if member.size > MAX_METADATA:
                        raise InvalidInput(f"the PKG-INFO of {dist.filename} is larger than {MAX_METADATA} bytes")
                    extracted = archive.extractfile(member)
                    if extracted is None:  # pragma: no cover - isfile() members always extract
                        break
                    return _read_capped(extracted, dist.filename)
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile, zlib.error):
        raise InvalidInput(f"{dist.filename} is not a readable sdist (.tar.gz) file") from None
    raise InvalidInput(f"{dist.filename} has no <name>-<version>/PKG-INFO")


def _read_capped(member: IO[bytes], filename: str) -> bytes:
    data = member.read(MAX_METADATA + 1)
    if len(data) > MAX_METADATA:
        raise InvalidInput(f"the core metadata of {filename} is larger than {MAX_METADATA} bytes")
    return data


class _Capped(io.BufferedIOBase):
    """A read-only stream that refuses to yield more than MAX_SDIST_SCAN bytes."""

    def __init__(self, inner: gzip.GzipFile, filename: str) -> None:
        super().__init__()
        self._inner = inner
        self._filename = filename
        self._read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._inner.read(-1 if size is None else size)
        self._read += len(data)
        if self._read > MAX_SDIST_SCAN:
            raise InvalidInput(f"{self._filename} unpacks past {MAX_SDIST_SCAN} bytes before its PKG-INFO")
        return data


def check_agrees(dist: Distribution, metadata: CoreMetadata, form_name: str, form_version: str, filetype: str) -> None:
    """The file name, the core metadata inside the file and the upload form must name one project
    at one version, as one kind of file; any disagreement is refused and names both sides."""
    if filetype != dist.kind:
        raise InvalidInput(f"filetype {filetype!r} does not match {dist.filename} (a {dist.kind})")
    problems = []
    if normalise(form_name) != dist.project:
        problems.append(f"the form's name {form_name!r} is not the file's project {dist.project!r}")
    if pep440(form_version) != dist.version:
        problems.append(f"the form's version {form_version!r} is not the file's version {dist.version}")
    if metadata.name != dist.project:
        problems.append(f"the core metadata's Name {metadata.name!r} is not the file's project {dist.project!r}")
    if metadata.version != dist.version:
        problems.append(f"the core metadata's Version {metadata.version} is not the file's version {dist.version}")
    if problems:
        raise InvalidInput(f"{dist.filename}: " + "; ".join(problems))
