"""twine's upload form (the legacy upload API: ``multipart/form-data`` with ``:action=file_upload``),
read as a stream: the ``content`` part goes to a sink chunk by chunk (the blob store's ingest, which
hashes it); the other fields are kept, under a cap, as text."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from hoist.domain.errors import DigestMismatch, InvalidInput, TooLarge

MAX_FIELD_BYTES = 4 * 1024 * 1024  # all text fields together (long_description is the large one)
MAX_PARTS = 1000
DIGEST_FIELDS = ("sha256_digest", "md5_digest", "blake2_256_digest")


@dataclass(slots=True)
class UploadForm:
    fields: dict[str, list[str]]
    filename: str
    size: int

    def value(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def require(self, name: str) -> str:
        value = self.value(name)
        if not value:
            raise InvalidInput(f"the upload form has no {name!r} field")
        return value

    def check_digests(self, computed: Mapping[str, str]) -> None:
        """Every digest the client sent (``computed`` has the content's, keyed like the form's
        fields) must be the content's; a client that sent none is not refused: the index publishes
        the digest Hoist computed."""
        for name in DIGEST_FIELDS:
            sent = self.value(name)
            # bytes: compare_digest refuses non-ASCII text, and a client may send anything
            if sent is not None and not hmac.compare_digest(sent.strip().lower().encode(), computed[name].encode()):
                raise DigestMismatch(f"{self.filename}: the form's {name} {sent[:128]!r} is not the file's {computed[name]}")


@dataclass(slots=True)
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    text: bytearray = field(default_factory=bytearray)


class UploadParser:
    """Feed the request body with ``feed``; ``finish`` returns the form. ``sink`` receives the
    ``content`` part's bytes in order (and raises to abort, e.g. over a size limit)."""

    def __init__(self, content_type: str | None, sink: Callable[[bytes], None]) -> None:
        media, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if media != b"multipart/form-data" or not boundary:
            raise InvalidInput("an upload must be multipart/form-data with a boundary (as twine sends it)")
        self._sink = sink
        self._fields: dict[str, list[str]] = {}
        self._field_bytes = 0
        self._parts = 0
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._filename: str | None = None
        self._size = 0
        self._ended = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
                "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise InvalidInput(f"the upload form is not valid multipart/form-data: {exc}") from None

    def finish(self) -> UploadForm:
        if not self._ended:
            raise InvalidInput("the upload form ended before its closing boundary")
        if self._filename is None:
            raise InvalidInput("the upload form has no 'content' file")
        return UploadForm(self._fields, self._filename, self._size)

    def _begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise InvalidInput(f"the upload form has more than {MAX_PARTS} parts")
        self._part = _Part()

    def _header_end(self) -> None:
        self._part.headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._part.headers.get(b"content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise InvalidInput("every part of the upload form needs Content-Disposition: form-data; name=...")
        self._part.name = _text(options[b"name"])
        if self._part.name == "content":
            if self._filename is not None:
                raise InvalidInput("the upload form carries more than one 'content' file")
            self._filename = _text(options.get(b"filename", b""))
            if not self._filename:
                raise InvalidInput("the upload form's 'content' part has no filename")

    def _data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if self._part.name == "content":
            self._size += len(piece)
            self._sink(piece)
            return
        self._field_bytes += len(piece)
        if self._field_bytes > MAX_FIELD_BYTES:
            raise TooLarge(f"the upload form's fields exceed {MAX_FIELD_BYTES} bytes", limit=MAX_FIELD_BYTES)
        self._part.text.extend(piece)

    def _part_end(self) -> None:
        if self._part.name != "content":
            self._fields.setdefault(self._part.name, []).append(_text(bytes(self._part.text)))

    def _end(self) -> None:
        self._ended = True


def _text(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise InvalidInput("the upload form holds text that is not UTF-8") from None
