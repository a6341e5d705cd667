"""Blobs in an S3 bucket (``storage_url = "s3://bucket/prefix"``), through boto3, on any
S3-compatible server (AWS, SeaweedFS, ...).

Layout under ``<prefix>/``:

- ``blobs/<alg>/<hex>``: a committed blob (what ``digests`` lists);
- ``uploads/<key>/tail``: an upload's bytes past its last full part (fewer than the part size),
  with, in its metadata, how many full parts precede it, the part size and when the upload started.
  It exists from ``create_upload`` to the upload's end: an upload is known while its tail is;
- ``uploads/<key>/part-<n>``: full parts (exactly the part size, >= S3's 5 MiB minimum), each an
  object of its own: any server reads them back (``read_upload``, a resume that drops bytes past
  the recorded offset), which the parts of an S3 multipart upload in progress cannot be;
- ``uploads/<key>/lock``: the one writer's lease, created only if absent (a conditional PUT).

A writer buffers in memory below the part size; each full part goes to S3 as it fills; ``close``
writes the rest as the tail. The tail says how many parts are the upload's: parts past that (a
writer that died before its tail was written) are ignored and overwritten. So an upload started on
one server continues on another from the offset the metadata store recorded.

``commit_upload`` runs after the services verified the digest (the running SHA-256 kept in the
database): it makes the blob in one S3 multipart upload onto ``blobs/<alg>/<hex>`` whose parts are
server-side copies of the part objects and the tail (``UploadPartCopy``: no byte passes through
Hoist again), completed at once, so the blob appears whole or not at all; an upload that is only a
tail is one ``CopyObject``. Nothing under ``blobs/`` is written before that.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from hoist.domain.digests import Digest
from hoist.domain.errors import BlobNotFound, ConcurrentUpdate, UploadNotFound
from hoist.domain.ports import BlobInfo, StoredUpload

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef

MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
DEFAULT_PART = 8 * 1024 * 1024
LOCK_LEASE = timedelta(minutes=15)  # a writer that died leaves its lock: taken over after this
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
_TAKEN = {"412", "PreconditionFailed", "ConditionalRequestConflict", "409"}


def parse_storage_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"storage_url must look like s3://bucket/prefix, not {url!r}")
    return parts.netloc, parts.path.strip("/")


def s3_client(
    *,
    endpoint: str | None = None,
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> S3Client:
    """A client signing with SigV4, path-style addressing (S3-compatible servers on one host). What
    is None comes from the standard AWS variables (``AWS_ENDPOINT_URL``, ``AWS_REGION``,
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``) or the AWS config files, as boto3 reads them."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=32,  # a server's request threads share the client
        # checksums only where S3 requires them: S3-compatible servers differ on the newer ones
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(  # a session of its own: boto3's default one is not thread-safe
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )


def _code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code", "")) or str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _missing(exc: ClientError) -> bool:
    return _code(exc) in _MISSING


@dataclass(frozen=True, slots=True)
class _Tail:
    parts: int  # full parts before the tail
    part_size: int
    started_at: datetime
    data: bytes

    @property
    def size(self) -> int:
        return self.parts * self.part_size + len(self.data)


class S3BlobStore:
    def __init__(self, client: S3Client, bucket: str, prefix: str = "", *, part_size: int = DEFAULT_PART) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"part_size must be at least {MIN_PART} bytes (S3's minimum part)")
        self.client = client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.part_size = part_size

    @classmethod
    def from_url(cls, url: str, client: S3Client) -> S3BlobStore:
        bucket, prefix = parse_storage_url(url)
        return cls(client, bucket, prefix)

    # -- blobs ----------------------------------------------------------------------------------

    def blob_key(self, digest: Digest) -> str:
        return f"{self.prefix}blobs/{digest.algorithm}/{digest.hex}"

    def stat(self, digest: Digest) -> BlobInfo:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.blob_key(digest))
        except ClientError as exc:
            if _missing(exc):
                raise BlobNotFound(f"blob {digest} is not stored", digest=str(digest)) from None
            raise
        return BlobInfo(digest, head["ContentLength"])

    def open(self, digest: Digest, offset: int = 0) -> BinaryIO:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.blob_key(digest)}
        if offset:
            args["Range"] = f"bytes={offset}-"
        try:
            answer = self.client.get_object(**args)
        except ClientError as exc:
            if _missing(exc):
                raise BlobNotFound(f"blob {digest} is not stored", digest=str(digest)) from None
            if _code(exc) in {"416", "InvalidRange"}:  # from its end: nothing left to read
                self.stat(digest)
                return io.BytesIO(b"")
            raise
        return cast(BinaryIO, io.BufferedReader(_Body(answer["Body"]), buffer_size=1024 * 1024))

    def path(self, digest: Digest) -> Path | None:  # noqa: ARG002
        return None

    def download_url(self, digest: Digest, *, expires_in: int) -> str | None:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.blob_key(digest)}, ExpiresIn=expires_in
        )

    def delete(self, digest: Digest) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.blob_key(digest))  # absent: no error in S3

    def set_aside(self, digest: Digest) -> str | None:
        """Copied to ``quarantine/<alg>-<hex>-<8 hex>``, then deleted (S3 has no rename)."""
        where = f"quarantine/{digest.algorithm}-{digest.hex}-{uuid.uuid4().hex[:8]}"
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=self.prefix + where,
                CopySource={"Bucket": self.bucket, "Key": self.blob_key(digest)},
            )
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        self.delete(digest)
        return where

    def digests(self) -> Iterator[Digest]:
        root = f"{self.prefix}blobs/"
        for key, _ in self._list(root):
            algorithm, _, hex_ = key[len(root) :].partition("/")
            if algorithm and hex_ and "/" not in hex_:
                yield Digest(algorithm, hex_)

    def _list(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]

    # -- uploads --------------------------------------------------------------------------------

    def _upload_key(self, key: str, name: str) -> str:
        return f"{self.prefix}uploads/{key}/{name}"

    def _tail(self, key: str) -> _Tail:
        if not _is_key(key):
            raise UploadNotFound(f"upload {key!r} is unknown or has ended", upload_id=key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._upload_key(key, "tail"))
        except ClientError as exc:
            if _missing(exc):
                raise UploadNotFound(f"upload {key!r} is unknown or has ended", upload_id=key) from None
            raise
        meta = answer.get("Metadata", {})
        return _Tail(
            int(meta.get("parts", "0")),
            int(meta.get("part-size", str(self.part_size))),
            datetime.fromisoformat(meta["started"]) if "started" in meta else answer["LastModified"],
            answer["Body"].read(),
        )

    def _put_tail(self, key: str, tail: _Tail) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._upload_key(key, "tail"),
            Body=tail.data,
            Metadata={"parts": str(tail.parts), "part-size": str(tail.part_size), "started": tail.started_at.isoformat()},
        )

    def _part(self, key: str, number: int) -> str:
        return self._upload_key(key, f"part-{number:05d}")

    def create_upload(self) -> str:
        key = uuid.uuid4().hex
        self._put_tail(key, _Tail(0, self.part_size, datetime.now(UTC), b""))
        return key

    def append(self, key: str, offset: int) -> S3UploadWriter:
        self._tail(key)  # known, before taking its lock
        self._lock(key)
        try:
            tail = self._tail(key)  # as the last writer left it
            if tail.size < offset:
                raise UploadNotFound(f"upload {key!r} holds fewer bytes than recorded", upload_id=key)
            kept, into = divmod(offset, tail.part_size)
            if kept >= tail.parts:  # the offset falls in the tail
                kept, buffer = tail.parts, tail.data[: offset - tail.parts * tail.part_size]
            elif into:  # inside a full part: its head becomes the buffer, the parts from it on are rewritten
                part = self.client.get_object(Bucket=self.bucket, Key=self._part(key, kept + 1), Range=f"bytes=0-{into - 1}")
                buffer = part["Body"].read()
            else:
                buffer = b""
        except BaseException:
            self._unlock(key)
            raise
        return S3UploadWriter(self, key, _Tail(kept, tail.part_size, tail.started_at, buffer))

    def _lock(self, key: str) -> None:
        name = self._upload_key(key, "lock")
        for _ in range(2):
            try:
                self.client.put_object(
                    Bucket=self.bucket, Key=name, Body=datetime.now(UTC).isoformat().encode(), IfNoneMatch="*"
                )
                return
            except ClientError as exc:
                if _code(exc) not in _TAKEN:
                    raise
            try:
                held = self.client.head_object(Bucket=self.bucket, Key=name)["LastModified"]
            except ClientError as exc:
                if _missing(exc):
                    continue  # let go meanwhile
                raise
            if datetime.now(UTC) - held < LOCK_LEASE:
                break
            self.client.delete_object(Bucket=self.bucket, Key=name)  # a dead writer's: taken over
        raise ConcurrentUpdate(f"upload {key} is being written by another request")

    def _unlock(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._upload_key(key, "lock"))

    def _renew(self, key: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._upload_key(key, "lock"), Body=datetime.now(UTC).isoformat().encode()
        )

    def read_upload(self, key: str) -> BinaryIO:
        tail = self._tail(key)
        return cast(BinaryIO, io.BufferedReader(_UploadReader(self, key, tail), buffer_size=1024 * 1024))

    def commit_upload(self, key: str, digest: Digest) -> BlobInfo:
        tail = self._tail(key)
        target = self.blob_key(digest)
        if tail.parts == 0:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=target,
                CopySource={"Bucket": self.bucket, "Key": self._upload_key(key, "tail")},
                MetadataDirective="REPLACE",
            )
        else:
            self._assemble(key, tail, target)
        self._remove(key)
        return BlobInfo(digest, tail.size)

    def _assemble(self, key: str, tail: _Tail, target: str) -> None:
        """One multipart upload of server-side copies, completed at once: the blob appears whole."""
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=target)["UploadId"]
        try:
            sources = [self._part(key, n) for n in range(1, tail.parts + 1)]
            if tail.data:
                sources.append(self._upload_key(key, "tail"))
            done: list[CompletedPartTypeDef] = []
            for number, source in enumerate(sources, start=1):
                copied = self.client.upload_part_copy(
                    Bucket=self.bucket,
                    Key=target,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": self.bucket, "Key": source},
                )
                done.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=target, UploadId=upload_id, MultipartUpload={"Parts": done}
            )
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=target, UploadId=upload_id)
            raise

    def _remove(self, key: str) -> None:
        names = [name for name, _ in self._list(f"{self.prefix}uploads/{key}/")]
        # the tail first: the upload is unknown from then on, whatever the rest's removal meets
        tail = self._upload_key(key, "tail")
        if tail in names:
            self.client.delete_object(Bucket=self.bucket, Key=tail)
        rest: list[ObjectIdentifierTypeDef] = [{"Key": name} for name in names if name != tail]
        for start in range(0, len(rest), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": rest[start : start + 1000], "Quiet": True})

    def abort_upload(self, key: str) -> int:
        try:
            size = self._tail(key).size
        except UploadNotFound:
            size = 0
        if _is_key(key):
            self._remove(key)
        return size

    def uploads(self) -> Iterator[StoredUpload]:
        root = f"{self.prefix}uploads/"
        for name, _ in self._list(root):
            key, _, rest = name[len(root) :].partition("/")
            if rest == "tail" and _is_key(key):
                try:
                    yield StoredUpload(key, self._tail(key).started_at)
                except UploadNotFound:  # ended meanwhile
                    continue


def _is_key(key: str) -> bool:
    return len(key) == 32 and all(c in "0123456789abcdef" for c in key)


class S3UploadWriter:
    """Appends in memory up to a part; each full part is written as it fills, the rest as the tail
    on ``close``. Holds the upload's lock until then."""

    def __init__(self, store: S3BlobStore, key: str, tail: _Tail) -> None:
        self.key = key
        self._store = store
        self._tail = tail
        self._buffer = bytearray(tail.data)
        self._parts = tail.parts
        self.size = tail.parts * tail.part_size + len(tail.data)
        self._closed = False

    def write(self, chunk: bytes) -> None:
        if self._closed:
            raise UploadNotFound(f"upload {self.key} is closed", upload_id=self.key)
        self._buffer.extend(chunk)
        self.size += len(chunk)
        part_size = self._tail.part_size
        while len(self._buffer) >= part_size:
            self._store.client.put_object(
                Bucket=self._store.bucket,
                Key=self._store._part(self.key, self._parts + 1),
                Body=bytes(self._buffer[:part_size]),
            )
            del self._buffer[:part_size]
            self._parts += 1
            self._store._renew(self.key)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._store._put_tail(
                self.key, _Tail(self._parts, self._tail.part_size, self._tail.started_at, bytes(self._buffer))
            )
        finally:
            self._store._unlock(self.key)


class _Body(io.RawIOBase):
    """botocore's streaming body as a raw stream (for a buffered reader: ``read(n)``, ``with``)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class _UploadReader(io.RawIOBase):
    """An upload's bytes: its parts in order, then its tail (read when the reader was made)."""

    def __init__(self, store: S3BlobStore, key: str, tail: _Tail) -> None:
        self._store = store
        self._key = key
        self._tail = tail
        self._next = 1
        self._current: _Body | None = None
        self._rest = io.BytesIO(tail.data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            if self._current is None and self._next <= self._tail.parts:
                try:
                    answer = self._store.client.get_object(
                        Bucket=self._store.bucket, Key=self._store._part(self._key, self._next)
                    )
                except ClientError as exc:
                    if _missing(exc):
                        raise UploadNotFound(f"upload {self._key!r} has ended", upload_id=self._key) from None
                    raise
                self._current = _Body(answer["Body"])
                self._next += 1
            if self._current is None:
                return self._rest.readinto(buffer)
            n = self._current.readinto(buffer)
            if n:
                return n
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
        super().close()
