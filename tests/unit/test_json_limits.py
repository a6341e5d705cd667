"""The bounded JSON reader: caps checked before parsing, every failure an InvalidInput or TooLarge."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoist.domain.errors import InvalidInput, InvalidManifest, TooLarge
from hoist.domain.jsonlimits import MAX_DEPTH, nesting, read_json
from hoist.signing import dsse

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\x'), inner, max_size=3),
    max_leaves=20,
)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


@given(JSON)
def test_nesting_counts_what_the_parser_sees_and_ignores_brackets_in_strings(value: object) -> None:
    text = json.dumps(value)
    assert nesting(text) == depth_of(value)
    assert read_json(text.encode(), limit=len(text)) == value


def test_a_document_100000_levels_deep_is_refused_unparsed() -> None:
    deep = '{"x":' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(InvalidManifest, match=rf"^manifest: the JSON is nested too deeply \(over {MAX_DEPTH} levels\)"):
        read_json(deep, limit=len(deep), invalid=InvalidManifest, where="manifest")
    at_the_cap = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert nesting(at_the_cap) == MAX_DEPTH and read_json(at_the_cap, limit=1000) is not None


def test_unterminated_and_unbalanced_text_is_invalid_not_a_crash() -> None:
    for text in ('"' + '\\"' * 100_000, "[" * 100_000, "]]]]", '{"a": "\\', "\xff"):
        with pytest.raises(InvalidInput):
            read_json(text, limit=10**7)
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_json(b'{"a": "\xff"}', limit=100)


def test_the_byte_cap_comes_first() -> None:
    with pytest.raises(TooLarge, match="the JSON is larger than 10 bytes"):
        read_json(b'{"a": "12345678"}', limit=10)


def test_integers_too_long_to_convert_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="not JSON: a number has more than 4300 digits"):
        read_json('{"build": ' + "9" * 5000 + "}", limit=10**6)


def test_deep_statements_and_envelopes_are_problems_not_crashes() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    envelope = {"payload": base64.b64encode(deep).decode(), "payloadType": "application/vnd.in-toto+json", "signatures": []}
    assert dsse.open_envelope(envelope, {}).problem == "the envelope does not carry an in-toto statement"
    assert dsse.open_envelope(deep, {}).problem == "not a DSSE envelope"
