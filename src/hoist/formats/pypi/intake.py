"""A twine upload taken in: the form streamed into the blob store under the upload size limit, the
client's digests checked, the file's name, its core metadata and the form made to agree, and the
metadata stored as its own blob (served as ``<file>.metadata``, PEP 658)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from hoist.domain.digests import Digest
from hoist.domain.errors import InvalidInput, UploadTruncated
from hoist.domain.models import FileEntry
from hoist.formats.pypi.distributions import CoreMetadata, Distribution, check_agrees, parse_filename, read_metadata
from hoist.formats.pypi.seekable import SeekableBlob
from hoist.formats.pypi.upload import UploadForm, UploadParser
from hoist.services.uploads import UploadService, UploadSession

BATCH = 1024 * 1024
MEDIA_TYPES = {"bdist_wheel": "application/zip", "sdist": "application/gzip"}
METADATA_MEDIA_TYPE = "text/plain"


@dataclass(frozen=True, slots=True)
class Received:
    dist: Distribution
    metadata: CoreMetadata
    file: FileEntry
    metadata_file: FileEntry
    form: UploadForm


async def receive(request: Request, uploads: UploadService) -> Received:
    session = await run_in_threadpool(uploads.open, None)
    try:
        form = await _read_form(request, session)
        if form.value(":action") != "file_upload":
            raise InvalidInput("only ':action=file_upload' is supported (the upload API twine uses)")
        form.check_digests()
        dist = parse_filename(form.filename)
        digest = Digest("sha256", form.digests["sha256_digest"])
        await run_in_threadpool(session.commit, digest)
    except BaseException:
        session.cancel()
        raise
    # Past this point a refusal leaves an unreferenced blob, which garbage collection removes.
    metadata = await run_in_threadpool(_metadata_of, uploads, dist, digest, form.size)
    check_agrees(dist, metadata, form.require("name"), form.require("version"), form.require("filetype"))
    metadata_file = await run_in_threadpool(_store, uploads, dist.metadata_name, metadata.raw)
    file = FileEntry(dist.filename, digest, form.size, MEDIA_TYPES[dist.kind])
    return Received(dist, metadata, file, metadata_file, form)


async def _read_form(request: Request, session: UploadSession) -> UploadForm:
    parser = UploadParser(request.headers.get("content-type"), session.write)
    pending: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            pending.append(chunk)
            size += len(chunk)
            if size >= BATCH:  # the parser writes the file's bytes: off the event loop, in batches
                await run_in_threadpool(parser.feed, b"".join(pending))
                pending, size = [], 0
    except ClientDisconnect:
        raise UploadTruncated("the client went away mid-upload; nothing was stored") from None
    if pending:
        await run_in_threadpool(parser.feed, b"".join(pending))
    return parser.finish()


def _metadata_of(uploads: UploadService, dist: Distribution, digest: Digest, size: int) -> CoreMetadata:
    with SeekableBlob(lambda offset: uploads.read(digest, offset), size) as raw:
        return read_metadata(dist, raw)  # type: ignore[arg-type]  # a RawIOBase is a binary file


def _store(uploads: UploadService, name: str, data: bytes) -> FileEntry:
    session = uploads.open(None)
    try:
        session.write(data)
        digest = Digest.of(data)
        session.commit(digest)
    except BaseException:
        session.cancel()
        raise
    return FileEntry(name, digest, len(data), METADATA_MEDIA_TYPE)
