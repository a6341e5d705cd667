"""The one reading of a ``Range`` request header (RFC 9110 §14), for every place that serves bytes.

Only single byte ranges are served: ``bytes=a-b``, ``bytes=a-`` and the suffix ``bytes=-n``. A
header naming several ranges gets the whole body (``None``): RFC 9110 §14.2 lets a server ignore
Range, no registry client asks for several, and one contiguous region keeps blobs on the zero-copy
path (sendfile) instead of building multipart/byteranges. A unit other than ``bytes`` is ignored
too, as §14.2 requires. Anything else that cannot be served, malformed (``bytes=abc``), reversed
(``bytes=10-5``), starting at or past the end, an empty suffix (``bytes=-0``), raises
``RangeNotSatisfiable``: a 416 with ``Content-Range: bytes */<size>`` (§15.5.17) rather than a 400,
as the distribution spec and the blob server answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hoist.domain.errors import RangeNotSatisfiable

_SPEC = re.compile(r"(\d*)-(\d*)")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive of a body of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


def unsatisfiable(size: int) -> str:
    """The ``Content-Range`` value of a 416."""
    return f"bytes */{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to serve of a body of ``size`` bytes; None to serve it whole."""
    if header is None:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    parts = [_SPEC.fullmatch(part.strip()) for part in specs.split(",")]
    if any(m is None or m[0] == "-" for m in parts):
        raise _refuse(header, size, "is not bytes=<first>-<last>, bytes=<first>- or bytes=-<suffix length>")
    matches = [m for m in parts if m is not None]
    if len(matches) > 1:
        return None
    first, last = matches[0][1], matches[0][2]
    if not first:  # a suffix: the last n bytes
        if int(last) == 0 or size == 0:
            raise _refuse(header, size, "asks for no bytes")
        return ByteRange(max(size - int(last), 0), size - 1, size)
    start = int(first)
    if last and int(last) < start:
        raise _refuse(header, size, "ends before it starts")
    if start >= size:
        raise _refuse(header, size, f"starts at or past the end of the {size} bytes")
    return ByteRange(start, min(int(last), size - 1) if last else size - 1, size)


def _refuse(header: str, size: int, why: str) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(f"Range {header!r} {why}", size=size, range=header)
