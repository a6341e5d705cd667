"""The one Range parser: what it serves, what it ignores, what it refuses (with the size, for the 416)."""

from __future__ import annotations

import pytest

from hoist.domain.errors import RangeNotSatisfiable
from hoist.domain.ranges import ByteRange, parse_range, unsatisfiable


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, ByteRange(0, 9, 100)),
        ("bytes=90-", 100, ByteRange(90, 99, 100)),
        ("bytes=90-1000", 100, ByteRange(90, 99, 100)),
        ("bytes=-10", 100, ByteRange(90, 99, 100)),
        ("bytes=-1000", 100, ByteRange(0, 99, 100)),
        ("bytes=99-99", 100, ByteRange(99, 99, 100)),
        ("Bytes = 5-6", 100, ByteRange(5, 6, 100)),
    ],
)
def test_one_range_is_served(header: str, size: int, expected: ByteRange) -> None:
    got = parse_range(header, size)
    assert got == expected
    assert got.length == expected.end - expected.start + 1
    assert got.content_range == f"bytes {expected.start}-{expected.end}/{size}"


@pytest.mark.parametrize("header", [None, "bytes=0-1,5-9", "bytes=0-1, -5", "items=0-3", "whatever"])
def test_no_range_several_ranges_or_another_unit_mean_the_whole_body(header: str | None) -> None:
    assert parse_range(header, 100) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=10-5", 100),
        ("bytes=abc", 100),
        ("bytes=500-0", 1000),
        ("bytes=-0", 100),
        ("bytes=100-", 100),
        ("bytes=500-600", 100),
        ("bytes=", 100),
        ("bytes", 100),
        ("bytes=-", 100),
        ("bytes=1-2-3", 100),
        ("bytes=0-1,abc", 100),
        ("bytes=0-", 0),
        ("bytes=-5", 0),
    ],
)
def test_a_range_that_cannot_be_served_is_refused_with_the_size(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as refused:
        parse_range(header, size)
    assert refused.value.details["size"] == size and repr(header) in refused.value.message
    assert unsatisfiable(size) == f"bytes */{size}"
