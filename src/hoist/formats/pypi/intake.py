"""A twine upload taken in: the form's file streamed into the blob store (the shared ingest, under
the upload size limit), the client's digests checked, the file's name, its core metadata and the
form made to agree, and the metadata stored as its own blob (served as ``<file>.metadata``, PEP 658).

A refusal after the file's bytes are stored leaves a blob nothing names: garbage collection takes it.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from hoist.domain.errors import InvalidInput
from hoist.domain.models import FileEntry
from hoist.domain.pep440 import Pep440
from hoist.formats.common.ingest import receive_stream, store_bytes
from hoist.formats.pypi.distributions import CoreMetadata, Distribution, check_agrees, parse_filename, read_metadata
from hoist.formats.pypi.seekable import SeekableBlob
from hoist.formats.pypi.upload import UploadParser
from hoist.services.uploads import UploadService

BATCH = 1024 * 1024
MEDIA_TYPES = {"bdist_wheel": "application/zip", "sdist": "application/gzip"}
METADATA_MEDIA_TYPE = "text/plain"


@dataclass(frozen=True, slots=True)
class Received:
    dist: Distribution
    version: Pep440  # the Hoist version the file joins
    metadata: CoreMetadata
    file: FileEntry
    metadata_file: FileEntry


async def receive(request: Request, uploads: UploadService) -> Received:
    pieces: deque[bytes] = deque()
    blake2 = hashlib.blake2b(digest_size=32)  # twine sends it; the ingest does not compute it

    def sink(piece: bytes) -> None:
        blake2.update(piece)
        pieces.append(piece)

    parser = UploadParser(request.headers.get("content-type"), sink)

    async def content() -> AsyncIterator[bytes]:
        batch: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            batch.append(chunk)
            size += len(chunk)
            if size >= BATCH:  # parsing and hashing a file's worth of bytes: off the event loop
                await run_in_threadpool(parser.feed, b"".join(batch))
                batch, size = [], 0
                while pieces:
                    yield pieces.popleft()
        if batch:
            await run_in_threadpool(parser.feed, b"".join(batch))
        while pieces:
            yield pieces.popleft()
        parser.finish()  # a form cut short fails the ingest, which then keeps nothing

    stored = await receive_stream(content(), uploads)
    form = parser.finish()
    if form.value(":action") != "file_upload":
        raise InvalidInput("only ':action=file_upload' is supported (the upload API twine uses)")
    form.check_digests(
        {
            "sha256_digest": stored.checksums["sha256"],
            "md5_digest": stored.checksums["md5"],
            "blake2_256_digest": blake2.hexdigest(),
        }
    )
    dist = parse_filename(form.filename)
    version = dist.hoist_version
    metadata = await run_in_threadpool(_metadata_of, uploads, dist, stored.digest, stored.size)
    check_agrees(dist, metadata, form.require("name"), form.require("version"), form.require("filetype"))
    meta_stored = await run_in_threadpool(store_bytes, metadata.raw, uploads)
    return Received(
        dist,
        version,
        metadata,
        stored.entry(dist.filename, MEDIA_TYPES[dist.kind]),
        meta_stored.entry(dist.metadata_name, METADATA_MEDIA_TYPE),
    )


def _metadata_of(uploads: UploadService, dist: Distribution, digest: object, size: int) -> CoreMetadata:
    with SeekableBlob(lambda offset: uploads.read(digest, offset), size) as raw:  # type: ignore[arg-type]
        return read_metadata(dist, raw)  # type: ignore[arg-type]  # a RawIOBase is a binary file
